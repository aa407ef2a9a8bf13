import { DockerfileError } from '../../base/errors.js';

/**
 * convertShellPattern turns a shell wildcard pattern (`*`, `?`, escapes; no bracket expressions)
 * into a regular expression. `greedy` picks the longest `*` match, `anchored` ties it to the start.
 */
export function convertShellPattern(pattern: string, greedy: boolean, anchored: boolean): RegExp {
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
  return new RegExp(out, 'u');
}

/** trimShellPrefix removes the shortest (or longest, when greedy) leading match of pattern from value. */
export function trimShellPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = convertShellPattern(pattern, greedy, true).exec(value);
  return m === null ? value : value.slice(m.index + m[0].length);
}

/** trimShellSuffix removes the shortest (or longest, when greedy) trailing match of pattern from value. */
export function trimShellSuffix(pattern: string, value: string, greedy: boolean): string {
  // Regular expressions find leftmost matches only, so search the reversed value with a reversed pattern.
  const reversed = trimShellPrefix(reversePattern(pattern), reverse(value), greedy);
  return reverse(reversed);
}

/** replaceShellPattern implements ${v/p/r} (first match) and ${v//p/r} (every match). */
export function replaceShellPattern(value: string, pattern: string, replacement: string, all: boolean): string {
  const re = convertShellPattern(pattern, true, false);
  if (!all) {
    const m = re.exec(value);
    if (m === null) return value;
    return value.slice(0, m.index) + replacement + value.slice(m.index + m[0].length);
  }
  const global = new RegExp(re.source, 'gu');
  let out = '';
  let last = 0;
  let prevEnd = -1;
  for (const m of value.matchAll(global)) {
    const start = m.index;
    const end = start + m[0].length;
    // An empty match right after a previous match is skipped, as in Go's ReplaceAll.
    if (m[0].length === 0 && start === prevEnd) continue;
    out += value.slice(last, start) + expandGoTemplate(replacement, m[0]);
    last = end;
    prevEnd = end;
  }
  return out + value.slice(last);
}

/** expandGoTemplate applies Go's regexp template rules ($$, $0, ${name}) for a pattern without groups. */
function expandGoTemplate(template: string, whole: string): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const ch = template[i];
    if (ch !== '$') {
      out += ch;
      continue;
    }
    if (template[i + 1] === '$') {
      out += '$';
      i++;
      continue;
    }
    const braced = template[i + 1] === '{';
    const re = braced ? /^\{([A-Za-z0-9_]+)\}/ : /^([A-Za-z0-9_]+)/;
    const m = re.exec(template.slice(i + 1));
    if (m === null || m[1] === undefined) {
      out += '$';
      continue;
    }
    if (m[1] === '0') out += whole;
    i += m[0].length;
  }
  return out;
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
