import { DockerfileError } from '../../base/errors.js';
import { LinearRegExp } from '../../base/linear-regexp.js';

/**
 * convertShellPattern turns a shell wildcard pattern (`*`, `?`, escapes; no bracket expressions)
 * into a regular expression. `greedy` picks the longest `*` match, `anchored` ties it to the start. It runs in time
 * linear in the value (as Go's RE2 does for BuildKit): a backtracking engine takes hours on `*a*a*a*a*c`.
 */
export function convertShellPattern(pattern: string, greedy: boolean, anchored: boolean): LinearRegExp {
  const chars = Array.from(pattern);
  let out = anchored ? '^' : '';
  // `.` in these patterns must match any character but a newline, like Go's RE2 default.
  const any = '[^\\n]';
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] ?? '';
    if (ch === '*') {
      out += greedy ? `${any}*` : `${any}*?`;
    } else if (ch === '?') {
      out += any;
    } else if (ch === '\\') {
      const next = chars[i + 1];
      // `}` and `/` are escaped only so that ${...} can hold them; the escape is not part of the pattern.
      if (next === '}' || next === '/') continue;
      i++;
      if (next !== '*' && next !== '?' && next !== '\\') {
        throw new DockerfileError(`Cannot use escape "\\${next ?? ''}" in a substitution pattern`, {
          code: 'DOCKERFILE_INVALID',
        });
      }
      out += `\\${next}`;
    } else if ('[]{}.+()|^$'.includes(ch)) {
      out += `\\${ch}`;
    } else {
      out += ch;
    }
  }
  return new LinearRegExp(out);
}

/** trimShellPrefix removes the shortest (or longest, when greedy) leading match of pattern from value. */
export function trimShellPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = convertShellPattern(pattern, greedy, true).exec(value);
  return m === undefined ? value : value.slice(m.end);
}

/** trimShellSuffix removes the shortest (or longest, when greedy) trailing match of pattern from value. */
export function trimShellSuffix(pattern: string, value: string, greedy: boolean): string {
  // Regular expressions find leftmost matches only, so search the reversed value with a reversed pattern.
  const reversed = trimShellPrefix(reversePattern(pattern), reverse(value), greedy);
  return reverse(reversed);
}

/**
 * replaceShellPattern implements ${v/p/r} (first match) and ${v//p/r} (every match). checkLength is called with the
 * length of the text built so far, so that a limit on the result stops the work early.
 */
export function replaceShellPattern(value: string, pattern: string, replacement: string, all: boolean, checkLength: (length: number) => void): string {
  const re = convertShellPattern(pattern, true, false);
  if (!all) {
    const m = re.exec(value);
    if (m === undefined) return value;
    checkLength(m.index + replacement.length + value.length - m.end);
    return value.slice(0, m.index) + replacement + value.slice(m.end);
  }
  const parts: string[] = [];
  let length = 0;
  const add = (part: string): void => {
    length += part.length;
    checkLength(length);
    parts.push(part);
  };
  let last = 0;
  let prevEnd = -1;
  for (let from = 0; from <= value.length; ) {
    const m = re.exec(value, from);
    if (m === undefined) break;
    // An empty match steps over one character, as JavaScript's global matching and Go's ReplaceAll do.
    from = m.end > m.index ? m.end : m.end + ((value.codePointAt(m.end) ?? 0) > 0xffff ? 2 : 1);
    // An empty match right after a previous match is skipped, as in Go's ReplaceAll.
    if (m.end === m.index && m.index === prevEnd) continue;
    add(value.slice(last, m.index));
    expandGoTemplate(replacement, value.slice(m.index, m.end), add);
    last = m.end;
    prevEnd = m.end;
  }
  add(value.slice(last));
  return parts.join('');
}

/** expandGoTemplate applies Go's regexp template rules ($$, $0, ${name}) for a pattern without groups, part by part. */
function expandGoTemplate(template: string, whole: string, add: (part: string) => void): void {
  let literal = '';
  for (let i = 0; i < template.length; i++) {
    const ch = template[i];
    if (ch !== '$') {
      literal += ch;
      continue;
    }
    if (template[i + 1] === '$') {
      literal += '$';
      i++;
      continue;
    }
    const braced = template[i + 1] === '{';
    const re = braced ? /\{([A-Za-z0-9_]+)\}/y : /([A-Za-z0-9_]+)/y;
    re.lastIndex = i + 1;
    const m = re.exec(template);
    if (m === null || m[1] === undefined) {
      literal += '$';
      continue;
    }
    if (m[1] === '0') {
      add(literal);
      literal = '';
      add(whole);
    }
    i += m[0].length;
  }
  add(literal);
}

function reverse(s: string): string {
  return Array.from(s).reverse().join('');
}

/** reversePattern reverses a pattern but keeps each escape before the character it escapes. */
function reversePattern(pattern: string): string {
  const chars = Array.from(pattern);
  const out: string[] = [];
  for (let i = 0; i < chars.length; ) {
    const ch = chars[i] ?? '';
    const next = chars[i + 1];
    if (ch === '\\' && next !== undefined) {
      out.unshift(ch + next);
      i += 2;
    } else {
      out.unshift(ch);
      i++;
    }
  }
  return out.join('');
}
