/**
 * A small part of Go's text/template, enough for the `imagetools inspect --format` templates buildx documents and CI
 * uses: text around actions, field paths (`{{.Manifest.Digest}}`), `json` (`{{json .Image}}`, `{{.Manifest | json}}`),
 * `index` (`{{json (index .Image "linux/arm64")}}`), trim markers and comments. Anything else is refused by name.
 */
import { UsageError } from '../base/errors.js';
import { encodeGoJson, type GoJsonValue } from '../base/go-json.js';
import { goTimeString, type Shape, type TemplateValue } from './imagetools-view.js';

/** Expr is one operand or command of an action. */
type Expr =
  | { readonly kind: 'field'; readonly base: Expr | undefined; readonly path: readonly string[] }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'json'; readonly arg: Expr }
  | { readonly kind: 'index'; readonly arg: Expr; readonly keys: readonly Expr[] };

/** Template is a parsed format: text and actions in order. */
export type Template = readonly ({ readonly text: string } | { readonly action: Expr })[];

const SUPPORTED = 'tbuild\'s --format takes text with {{.Field.Path}}, {{json .Manifest}}, {{json .Image}}, {{json (index .Image "os/arch")}} and {{.X | json}}';

/** parseTemplate parses a --format value, refusing what it does not support with a message that says so. */
export function parseTemplate(format: string): Template {
  const fail = (detail: string): UsageError => new UsageError(`Cannot use --format ${JSON.stringify(format)}: ${detail}`, { hint: SUPPORTED });
  const out: ({ text: string } | { action: Expr })[] = [];
  let pos = 0;
  let trimNext = false;
  while (pos < format.length) {
    const open = format.indexOf('{{', pos);
    let text = format.slice(pos, open === -1 ? format.length : open);
    if (trimNext) text = text.trimStart();
    trimNext = false;
    if (open === -1) {
      out.push({ text });
      break;
    }
    const close = format.indexOf('}}', open + 2);
    if (close === -1) throw fail('unclosed action');
    let body = format.slice(open + 2, close);
    if (/^-\s/.test(body)) {
      text = text.trimEnd();
      body = body.slice(1);
    }
    if (/\s-$/.test(body)) {
      trimNext = true;
      body = body.slice(0, -1);
    }
    out.push({ text });
    pos = close + 2;
    const trimmed = body.trim();
    if (trimmed.startsWith('/*') && trimmed.endsWith('*/')) continue;
    out.push({ action: parseAction(trimmed, fail) });
  }
  return out.filter((s) => !('text' in s) || s.text !== '');
}

interface Token {
  readonly text: string;
  /** Whitespace came before it: `(x).A` chains a field, `(x) .A` is another operand. */
  readonly spaced: boolean;
}

function tokenize(body: string, fail: (d: string) => UsageError): Token[] {
  const tokens: Token[] = [];
  const re = /\s*("(?:[^"\\]|\\.)*"|`[^`]*`|[()|]|\.?[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*|\.|\d+|[^\s()|]+)/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(body)) !== null && m[0] !== '') tokens.push({ text: m[1] ?? '', spaced: /^\s/.test(m[0]) || tokens.length === 0 });
  if (tokens.length === 0) throw fail('empty action');
  return tokens;
}

function parseAction(body: string, fail: (d: string) => UsageError): Expr {
  const tokens = tokenize(body, fail);
  let i = 0;
  const peek = (): Token | undefined => tokens[i];
  const operand = (): Expr => {
    const t = tokens[i++];
    if (t === undefined) throw fail('an action ends too early');
    let expr: Expr;
    if (t.text === '(') {
      expr = pipeline();
      if (tokens[i++]?.text !== ')') throw fail('unbalanced parentheses');
    } else if (t.text.startsWith('"')) {
      return { kind: 'string', value: parseStringLiteral(t.text, fail) };
    } else if (/^\d+$/.test(t.text)) {
      return { kind: 'number', value: Number(t.text) };
    } else if (t.text.startsWith('`')) {
      return { kind: 'string', value: t.text.slice(1, -1) };
    } else if (t.text.startsWith('.')) {
      return { kind: 'field', base: undefined, path: t.text === '.' ? [] : t.text.slice(1).split('.') };
    } else {
      throw fail(unsupported(t.text));
    }
    const next = peek();
    if (next !== undefined && !next.spaced && next.text.startsWith('.') && next.text !== '.') {
      i++;
      expr = { kind: 'field', base: expr, path: next.text.slice(1).split('.') };
    }
    return expr;
  };
  const command = (piped: Expr | undefined): Expr => {
    const t = peek();
    if (t?.text === 'json') {
      i++;
      const arg = piped ?? operand();
      return { kind: 'json', arg };
    }
    if (t?.text === 'index') {
      i++;
      const args: Expr[] = [];
      while (peek() !== undefined && peek()?.text !== '|' && peek()?.text !== ')') args.push(operand());
      if (piped !== undefined) args.push(piped);
      const [arg, ...keys] = args;
      if (arg === undefined || keys.length === 0) throw fail('index takes a map and at least one key');
      return { kind: 'index', arg, keys };
    }
    if (piped !== undefined) throw fail(`only json and index can follow "|", not "${t?.text ?? ''}"`);
    return operand();
  };
  const pipeline = (): Expr => {
    let expr = command(undefined);
    while (peek()?.text === '|') {
      i++;
      expr = command(expr);
    }
    return expr;
  };
  const expr = pipeline();
  if (i < tokens.length) throw fail(`unexpected "${tokens[i]?.text ?? ''}" in {{${body}}}`);
  return expr;
}

function parseStringLiteral(text: string, fail: (d: string) => UsageError): string {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'string') return value;
  } catch (err) {
    throw fail(`invalid string ${text}: ${err instanceof Error ? err.message : String(err)}`);
  }
  throw fail(`invalid string ${text}`);
}

function unsupported(word: string): string {
  if (word.startsWith('$')) return 'template variables are not supported';
  return `"${word}" is not supported`;
}

/** rootFields lists the fields of the template input that a template reads (`*` for the whole input). */
export function rootFields(template: Template): Set<string> {
  const out = new Set<string>();
  const walk = (e: Expr): void => {
    switch (e.kind) {
      case 'field':
        if (e.base !== undefined) walk(e.base);
        else out.add(e.path[0] ?? '*');
        break;
      case 'json':
        walk(e.arg);
        break;
      case 'index':
        walk(e.arg);
        e.keys.forEach(walk);
        break;
      case 'string':
      case 'number':
        break;
    }
  };
  for (const s of template) if ('action' in s) walk(s.action);
  return out;
}

/**
 * executeTemplate writes a parsed template over the input as Go's template would (without a final newline, as buildx).
 * `json` indents by two spaces as buildx's does, or by `jsonIndent` ('' for the Docker CLI's compact one).
 */
export function executeTemplate(template: Template, input: TemplateValue, format: string, jsonIndent = '  '): string {
  const fail = (detail: string): UsageError => new UsageError(`Cannot use --format ${JSON.stringify(format)}: ${detail}`, { hint: SUPPORTED });
  return template.map((s) => ('text' in s ? s.text : text(evaluate(s.action, input, { fail, jsonIndent }), fail))).join('');
}

interface EvalContext {
  readonly fail: (d: string) => UsageError;
  readonly jsonIndent: string;
}

type Evaluated = TemplateValue | { readonly literal: string | number; readonly printed?: boolean };

function evaluate(e: Expr, input: TemplateValue, ctx: EvalContext): Evaluated {
  const { fail } = ctx;
  switch (e.kind) {
    case 'string':
    case 'number':
      return { literal: e.value };
    case 'json': {
      const v = evaluate(e.arg, input, ctx);
      return { literal: 'literal' in v ? encodeGoJson(v.literal) : encodeGoJson(v.json ?? zero(v.shape), ctx.jsonIndent), printed: true };
    }
    case 'field': {
      let v = e.base === undefined ? input : evaluate(e.base, input, ctx);
      if ('literal' in v) throw fail('a string has no fields');
      for (const name of e.path) v = field(v, name, fail);
      return v;
    }
    case 'index': {
      let v = evaluate(e.arg, input, ctx);
      for (const k of e.keys) {
        const key = evaluate(k, input, ctx);
        if ('literal' in v || !('literal' in key) || key.printed === true) throw fail('index takes a map and string keys');
        v = indexOf(v, key.literal, fail);
      }
      return v;
    }
  }
}

function field(v: TemplateValue, name: string, fail: (d: string) => UsageError): TemplateValue {
  const shape = v.shape;
  if (name === 'SBOM' || name === 'Provenance') throw fail(`.${name} (attestations) is not supported yet`);
  if (shape.kind === 'map') throw fail(`cannot read field "${name}" of a map: use (index X "KEY"), such as (index .Image "linux/amd64")`);
  if (shape.kind !== 'struct') throw fail(`cannot read field "${name}" of a ${shape.kind}`);
  const f = shape.fields[name];
  if (f === undefined) throw fail(`can't evaluate field ${name} in type ${shape.type} (fields: ${Object.keys(shape.fields).join(', ')})`);
  if (shape.pointer === true && v.json === undefined) throw fail(`nil pointer evaluating ${shape.type}.${name}`);
  return { shape: f[1], json: isStruct(v.json) ? v.json[f[0]] : undefined };
}

function isStruct(json: GoJsonValue | undefined): json is { readonly [field: string]: GoJsonValue | undefined } {
  return typeof json === 'object' && json !== null && !Array.isArray(json) && !(json instanceof Map);
}

function indexOf(v: TemplateValue, key: string | number, fail: (d: string) => UsageError): TemplateValue {
  const shape = v.shape;
  if (shape.kind === 'map' && typeof key === 'string') return { shape: shape.value, json: v.json instanceof Map ? v.json.get(key) : undefined };
  if (shape.kind === 'list' && typeof key === 'number') {
    const list = Array.isArray(v.json) ? v.json : [];
    if (key >= list.length) throw fail(`index out of range: ${key}`);
    return { shape: shape.item, json: list[key] };
  }
  const what = shape.kind === 'struct' ? shape.type : shape.kind;
  throw fail(`cannot index a ${what} with ${typeof key === 'string' ? `"${key}"` : key}`);
}

function zero(shape: Shape): GoJsonValue {
  switch (shape.kind) {
    case 'string':
      return '';
    case 'int':
      return 0;
    case 'bool':
      return false;
    case 'struct':
      return shape.pointer === true ? null : {};
    case 'time':
    case 'bytes':
    case 'list':
    case 'map':
      return null;
  }
}

function text(v: Evaluated, fail: (d: string) => UsageError): string {
  if ('literal' in v) return String(v.literal);
  const json = v.json ?? zero(v.shape);
  switch (v.shape.kind) {
    case 'string':
    case 'int':
    case 'bool':
      return String(json);
    case 'time':
      return typeof json === 'string' ? goTimeString(json) : '<nil>';
    case 'bytes':
    case 'struct':
    case 'list':
    case 'map':
      throw fail(`Go prints this ${v.shape.kind === 'struct' ? v.shape.type : v.shape.kind} in its internal form: print it with json`);
  }
}
