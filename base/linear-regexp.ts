import { InternalError } from './errors.js';

/**
 * LinearRegExp runs the small regular expressions that glob-like patterns compile to (literals, escapes, classes,
 * `*`, `?`, lazy forms, `(?:…)` groups that match at least one character, `^`, `$`, `\b`) in time linear in the input: a Pike VM keeps one thread
 * per program position, so a pattern such as `*a*a*a*c` cannot backtrack into exponential or polynomial time, as
 * it does in JavaScript's backtracking engine. Go's RE2 (which BuildKit and moby/patternmatcher use) is linear the
 * same way. Matches are leftmost-first with greedy or lazy quantifiers, exactly as the backtracking engine picks them.
 */
export class LinearRegExp {
  readonly source: string;
  readonly #prog: readonly Inst[];

  constructor(source: string) {
    this.source = source;
    const insts: Inst[] = [];
    emit(new Parser(source).parseSequence(false), insts);
    insts.push({ op: 'match' });
    this.#prog = insts;
  }

  /** test reports whether the pattern matches somewhere in input. */
  test(input: string): boolean {
    return this.exec(input, 0) !== undefined;
  }

  /** exec finds the leftmost-first match starting at or after from (a UTF-16 index); end is exclusive. */
  exec(input: string, from = 0): { index: number; end: number } | undefined {
    const prog = this.#prog;
    const vm = new Threads(prog.length);
    let current = new ThreadList(prog.length);
    let next = new ThreadList(prog.length);
    let matched: { index: number; end: number } | undefined;
    for (let pos = from; ; ) {
      if (matched === undefined) vm.add(prog, current, 0, pos, input, pos);
      if (current.length === 0 && (matched !== undefined || pos >= input.length)) break;
      const cp = pos < input.length ? (input.codePointAt(pos) ?? -1) : -1;
      const nextPos = pos + (cp > 0xffff ? 2 : 1);
      vm.step++;
      for (let i = 0; i < current.length; i++) {
        const pc = current.pc[i] ?? 0;
        const start = current.start[i] ?? 0;
        const inst = prog[pc];
        if (inst === undefined) throw new InternalError(`Cannot run pattern ${JSON.stringify(this.source)}: bad program`);
        if (inst.op === 'match') {
          matched = { index: start, end: pos };
          break; // threads after this one have lower priority
        }
        if (inst.op === 'char' && cp >= 0 && (inst.code === cp || (inst.code < 0 && inst.test(cp)))) vm.add(prog, next, pc + 1, start, input, nextPos);
      }
      if (cp < 0) break;
      [current, next] = [next, current];
      next.length = 0;
      pos = nextPos;
    }
    return matched;
  }
}

type Inst =
  | { readonly op: 'char'; readonly code: number; readonly test: (cp: number) => boolean }
  | { op: 'split'; x: number; y: number }
  | { op: 'jmp'; x: number }
  | { readonly op: 'assert'; readonly at: 'start' | 'end' | 'boundary' | 'nonBoundary' }
  | { readonly op: 'match' };

/** ThreadList is one step's threads in priority order: program counters and match starts. */
class ThreadList {
  readonly pc: Int32Array;
  readonly start: Int32Array;
  length = 0;
  constructor(size: number) {
    this.pc = new Int32Array(size);
    this.start = new Int32Array(size);
  }
}

/** Threads adds threads to a step's list, each program position at most once per step. */
class Threads {
  step = 0;
  readonly #seen: Int32Array;
  readonly #stack: number[] = [];
  constructor(size: number) {
    this.#seen = new Int32Array(size).fill(-1);
  }

  /**
   * add follows jumps, splits (preferred branch first) and assertions from pc, adding the char and match threads in
   * priority order. It keeps its own stack: a pattern of thousands of `*` would overflow the call stack.
   */
  add(prog: readonly Inst[], list: ThreadList, from: number, start: number, input: string, pos: number): void {
    const stack = this.#stack;
    stack.push(from);
    for (let pc = stack.pop(); pc !== undefined; pc = stack.pop()) {
      if (this.#seen[pc] === this.step) continue;
      this.#seen[pc] = this.step;
      const inst = prog[pc];
      if (inst === undefined) continue;
      switch (inst.op) {
        case 'jmp':
          stack.push(inst.x);
          break;
        case 'split':
          stack.push(inst.y, inst.x);
          break;
        case 'assert':
          if (holds(inst.at, input, pos)) stack.push(pc + 1);
          break;
        case 'char':
        case 'match':
          list.pc[list.length] = pc;
          list.start[list.length] = start;
          list.length++;
      }
    }
  }
}

function isWordUnit(code: number | undefined): boolean {
  return code !== undefined && ((code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a) || code === 0x5f);
}

function holds(at: 'start' | 'end' | 'boundary' | 'nonBoundary', input: string, pos: number): boolean {
  if (at === 'start') return pos === 0;
  if (at === 'end') return pos === input.length;
  const boundary = isWordUnit(input.charCodeAt(pos - 1) || undefined) !== isWordUnit(pos < input.length ? input.charCodeAt(pos) : undefined);
  return at === 'boundary' ? boundary : !boundary;
}

type Node =
  | { readonly kind: 'char'; readonly test: (cp: number) => boolean; readonly code?: number }
  | { readonly kind: 'assert'; readonly at: 'start' | 'end' | 'boundary' | 'nonBoundary' }
  | { readonly kind: 'repeat'; readonly body: readonly Node[]; readonly max: 1 | typeof Infinity; readonly greedy: boolean };

function emit(nodes: readonly Node[], out: Inst[]): void {
  for (const node of nodes) {
    if (node.kind === 'char') out.push({ op: 'char', code: node.code ?? -1, test: node.test });
    else if (node.kind === 'assert') out.push({ op: 'assert', at: node.at });
    else {
      // x? is split(body, end); x* is L: split(body, end); body; jmp L. A lazy form swaps the split's preference.
      const split: Inst = { op: 'split', x: 0, y: 0 };
      const top = out.length;
      out.push(split);
      emit(node.body, out);
      if (node.max === Infinity) out.push({ op: 'jmp', x: top });
      const body = top + 1;
      const end = out.length;
      split.x = node.greedy ? body : end;
      split.y = node.greedy ? end : body;
    }
  }
}

const CONTROL_ESCAPES: Readonly<Record<string, number>> = { n: 0x0a, r: 0x0d, t: 0x09, f: 0x0c, v: 0x0b, '0': 0 };

/** Parser reads the supported subset of JavaScript (unicode mode) regular expression syntax. */
class Parser {
  readonly #chars: string[];
  #pos = 0;

  constructor(readonly source: string) {
    this.#chars = Array.from(source);
  }

  parseSequence(inGroup: boolean): Node[] {
    const nodes: Node[] = [];
    for (;;) {
      const ch = this.#chars[this.#pos];
      if (ch === undefined) {
        if (inGroup) throw this.#unsupported('an unclosed group');
        return nodes;
      }
      if (ch === ')') {
        if (!inGroup) throw this.#unsupported('an unopened group');
        this.#pos++;
        return nodes;
      }
      this.#pos++;
      let atom: Node[];
      if (ch === '^') atom = [{ kind: 'assert', at: 'start' }];
      else if (ch === '$') atom = [{ kind: 'assert', at: 'end' }];
      else if (ch === '.') atom = [{ kind: 'char', test: (cp) => cp !== 0x0a && cp !== 0x0d && cp !== 0x2028 && cp !== 0x2029 }];
      else if (ch === '[') atom = [this.#parseClass()];
      else if (ch === '\\') atom = [this.#parseEscape()];
      else if (ch === '(') {
        if (this.#chars[this.#pos] !== '?' || this.#chars[this.#pos + 1] !== ':') throw this.#unsupported('a capturing group');
        this.#pos += 2;
        atom = this.parseSequence(true);
        // JavaScript and Go disagree on a repeated group that matches empty; the patterns tbuild builds never have one.
        if (atom.every((n) => n.kind !== 'char')) throw this.#unsupported('a group that can match empty');
      } else if ('*+?{}|]'.includes(ch)) throw this.#unsupported(`"${ch}" here`);
      else {
        const code = ch.codePointAt(0) ?? -1;
        atom = [{ kind: 'char', code, test: (cp) => cp === code }];
      }
      const q = this.#chars[this.#pos];
      if (q === '*' || q === '?') {
        this.#pos++;
        const greedy = this.#chars[this.#pos] !== '?';
        if (!greedy) this.#pos++;
        if (atom.length === 1 && atom[0]?.kind === 'assert') throw this.#unsupported('a repeated assertion');
        nodes.push({ kind: 'repeat', body: atom, max: q === '*' ? Infinity : 1, greedy });
      } else {
        nodes.push(...atom);
      }
    }
  }

  #parseEscape(): Node {
    const ch = this.#chars[this.#pos++];
    if (ch === undefined) throw this.#unsupported('a trailing "\\"');
    if (ch === 'b' || ch === 'B') return { kind: 'assert', at: ch === 'b' ? 'boundary' : 'nonBoundary' };
    if ('dDwWsS'.includes(ch)) return { kind: 'char', test: classTest(`\\${ch}`) };
    if (ch === 'x') {
      const hex = this.#chars.slice(this.#pos, this.#pos + 2).join('');
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw this.#unsupported('a short \\x escape');
      this.#pos += 2;
      const code = parseInt(hex, 16);
      return { kind: 'char', code, test: (cp) => cp === code };
    }
    const control = CONTROL_ESCAPES[ch];
    const code = control ?? ch.codePointAt(0) ?? -1;
    if (control === undefined && /[A-Za-z0-9]/.test(ch)) throw this.#unsupported(`the escape "\\${ch}"`);
    return { kind: 'char', code, test: (cp) => cp === code };
  }

  #parseClass(): Node {
    // A class matches one character: JavaScript's own engine tests it, which costs no backtracking.
    const start = this.#pos - 1;
    while (this.#pos < this.#chars.length && this.#chars[this.#pos] !== ']') this.#pos += this.#chars[this.#pos] === '\\' ? 2 : 1;
    if (this.#pos >= this.#chars.length) throw this.#unsupported('an unclosed class');
    this.#pos++;
    return { kind: 'char', test: classTest(this.#chars.slice(start, this.#pos).join('')) };
  }

  #unsupported(what: string): InternalError {
    return new InternalError(`Cannot compile pattern ${JSON.stringify(this.source)} for linear matching: ${what} is not supported`);
  }
}

/** classTest tests one code point against a one-character class such as `[a-z]` or `\d`. */
function classTest(cls: string): (cp: number) => boolean {
  const re = new RegExp(`^${cls}$`, 'u');
  const ascii = new Int8Array(128).fill(-1);
  return (cp) => {
    if (cp < 128) {
      let r = ascii[cp] ?? -1;
      if (r < 0) {
        r = re.test(String.fromCharCode(cp)) ? 1 : 0;
        ascii[cp] = r;
      }
      return r === 1;
    }
    return re.test(String.fromCodePoint(cp));
  };
}
