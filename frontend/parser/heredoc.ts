import { DockerfileError } from '../../base/errors.js';
import { ShellLexer } from '../shell/index.js';
import type { MutableNode } from './node.js';

/** HeredocHeader is a heredoc found on an instruction line, before its body is read. */
export interface HeredocHeader {
  readonly name: string;
  readonly expand: boolean;
  readonly chomp: boolean;
}

const HEREDOC_RE = /^(\d*)<<(-?)([^<]*)$/;
const HEREDOC_KEYWORDS = new Set(['run', 'copy', 'add']);
const NO_ENV = (): undefined => undefined;

/** canContainHeredoc reports whether an instruction (or ONBUILD's nested one) may carry heredocs. */
export function canContainHeredoc(node: MutableNode): boolean {
  let target = node;
  const nested = node.next?.children[0];
  if (node.value === 'onbuild' && nested !== undefined) target = nested;
  return HEREDOC_KEYWORDS.has(target.value) && target.attributes.json !== true;
}

/** parseHeredoc reads one `[n]<<[-]WORD` token; undefined when the token is not a heredoc. */
export function parseHeredoc(token: string): HeredocHeader | undefined {
  const m = HEREDOC_RE.exec(token);
  if (m === null) return undefined;
  const chomp = m[2] === '-';
  const rest = m[3] ?? '';
  if (rest === '') return undefined;
  // Lex the word with and without quote removal: if the quote counts differ, part of it was quoted,
  // and a quoted delimiter turns expansion off.
  const words = new ShellLexer({ skipUnsetEnv: true }).processWords(rest, NO_ENV);
  if (words.length !== 1) return undefined;
  const rawWords = new ShellLexer({ skipUnsetEnv: true, rawQuotes: true }).processWords(rest, NO_ENV);
  if (rawWords.length !== words.length) {
    throw new DockerfileError(`Cannot lex heredoc consistently: ${rest}`, { code: 'DOCKERFILE_SYNTAX' });
  }
  const name = words[0] ?? '';
  const expand = countQuotes(name) === countQuotes(rawWords[0] ?? '');
  return { name, expand, chomp };
}

function countQuotes(s: string): number {
  let n = 0;
  for (const ch of s) if (ch === "'" || ch === '"') n++;
  return n;
}

/** heredocsFromLine lists the heredocs opened on an instruction line, in order. */
export function heredocsFromLine(line: string): HeredocHeader[] {
  const lexer = new ShellLexer({ rawQuotes: true, rawEscapes: true, skipUnsetEnv: true });
  let words: string[];
  try {
    words = lexer.processWords(line, NO_ENV);
  } catch (err) {
    // A line the lexer cannot split (an unmatched quote, say) simply has no heredocs.
    if (err instanceof DockerfileError) return [];
    throw err;
  }
  const out: HeredocHeader[] = [];
  for (const word of words) {
    const heredoc = parseHeredoc(word);
    if (heredoc !== undefined) out.push(heredoc);
  }
  return out;
}
