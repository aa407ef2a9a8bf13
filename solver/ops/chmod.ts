import { FileOpError } from '../../base/errors.js';

/** ModeSpec is a parsed --chmod value: an octal mode or chmod(1)-style symbolic clauses. */
export type ModeSpec = { readonly kind: 'octal'; readonly mode: number } | { readonly kind: 'symbolic'; readonly clauses: readonly Clause[] };

interface Clause {
  readonly who: number;
  readonly op: '+' | '-' | '=';
  readonly perms: string;
}

const WHO_BITS: Record<string, number> = { u: 0o4700, g: 0o2070, o: 0o1007, a: 0o7777 };

/** parseModeSpec reads `755`, `0644` or symbolic forms such as `u+x,g-w,o=r` and `a+X`. */
export function parseModeSpec(value: string): ModeSpec {
  if (/^[0-7]{1,4}$/.test(value)) return { kind: 'octal', mode: Number.parseInt(value, 8) };
  const clauses: Clause[] = [];
  for (const part of value.split(',')) {
    const m = /^([ugoa]*)([-+=])([rwxXst]*|[ugo])$/.exec(part);
    if (m === null) throw new FileOpError(`Cannot use --chmod=${value}: expected an octal mode such as 755 or a symbolic mode such as u+x,g-w`);
    const whoText = m[1] ?? '';
    let who = 0;
    for (const c of whoText === '' ? 'a' : whoText) who |= WHO_BITS[c] ?? 0;
    clauses.push({ who, op: (m[2] ?? '+') as Clause['op'], perms: m[3] ?? '' });
  }
  return { kind: 'symbolic', clauses };
}

function permBits(perms: string, current: number, isDir: boolean): number {
  if (perms === 'u' || perms === 'g' || perms === 'o') {
    const shift = perms === 'u' ? 6 : perms === 'g' ? 3 : 0;
    const rwx = (current >> shift) & 7;
    return (rwx << 6) | (rwx << 3) | rwx;
  }
  let bits = 0;
  for (const c of perms) {
    if (c === 'r') bits |= 0o444;
    else if (c === 'w') bits |= 0o222;
    else if (c === 'x') bits |= 0o111;
    else if (c === 'X' && (isDir || (current & 0o111) !== 0)) bits |= 0o111;
    else if (c === 's') bits |= 0o6000;
    else if (c === 't') bits |= 0o1000;
  }
  return bits;
}

/** applyModeSpec computes the new permission bits of a file or directory whose current mode is `current`. */
export function applyModeSpec(spec: ModeSpec, current: number, isDir: boolean): number {
  if (spec.kind === 'octal') return spec.mode;
  let mode = current & 0o7777;
  for (const c of spec.clauses) {
    const bits = permBits(c.perms, mode, isDir) & c.who;
    if (c.op === '+') mode |= bits;
    else if (c.op === '-') mode &= ~bits;
    else mode = (mode & ~c.who) | bits;
  }
  return mode & 0o7777;
}
