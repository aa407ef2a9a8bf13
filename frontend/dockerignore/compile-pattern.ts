import { DockerfileError } from '../../base/errors.js';
import { LinearRegExp } from '../../base/linear-regexp.js';

/** MatchType is how a pattern is matched, as in moby/patternmatcher. */
export type MatchType = 'exactMatch' | 'prefixMatch' | 'suffixMatch' | 'regexpMatch';

/**
 * CompiledPattern is a pattern sorted into its match type; regexp patterns carry Go's source and a matcher that runs in
 * linear time, as Go's RE2 does (JavaScript's backtracking engine takes hours on `*a*a*a*a*a*c` against a long name).
 */
export type CompiledPattern =
  | { readonly matchType: 'exactMatch' | 'prefixMatch' | 'suffixMatch' }
  | { readonly matchType: 'regexpMatch'; readonly goSource: string; readonly regexp: LinearRegExp };

// Characters that are literal in a glob but special in a regular expression.
const REGEX_LITERALS = '.+()|{}$';
const JS_SYNTAX = '^$\\.*+?()[]{}|/';
const JS_CLASS_ESCAPES = 'dDwWsSbBnrtfv';

/** escapeJs renders the escaped glob character ch for a JavaScript (unicode mode) regular expression. */
function escapeJs(ch: string, inClass: boolean): string {
  if (JS_SYNTAX.includes(ch)) return `\\${ch}`;
  if (ch === '-') return inClass ? '\\-' : '-';
  if (ch === 'a') return '\\x07';
  if (JS_CLASS_ESCAPES.includes(ch)) return `\\${ch}`;
  return ch;
}

/**
 * compilePattern sorts a cleaned pattern into exact, prefix (`dir/**`), suffix (`**…` without other
 * wildcards) or regexp matching, building the same regular expression as moby/patternmatcher.
 */
export function compilePattern(pattern: string): CompiledPattern {
  const chars = Array.from(pattern);
  let go = '^';
  let js = '^';
  let matchType: MatchType = 'exactMatch';
  let inClass = false;
  let classFirst = false;
  for (let i = 0, step = 0; i < chars.length; i++, step++) {
    const ch = chars[i] ?? '';
    const wasClassFirst = classFirst;
    classFirst = false;
    if (ch === '*') {
      if (chars[i + 1] === '*') {
        i++;
        // `**/` is treated as `**`.
        if (chars[i + 1] === '/') i++;
        if (i + 1 >= chars.length) {
          // A trailing `**` accepts everything below, as .gitignore does.
          if (matchType === 'exactMatch') {
            matchType = 'prefixMatch';
          } else {
            go += '.*';
            js += '[^\\n]*';
            matchType = 'regexpMatch';
          }
        } else {
          go += '(.*/)?';
          js += '(?:[^\\n]*/)?';
          matchType = 'regexpMatch';
        }
        // A pattern that opens with `**` is a suffix match unless a later wildcard makes it a regexp.
        if (step === 0) matchType = 'suffixMatch';
      } else {
        go += '[^/]*';
        js += '[^/]*';
        matchType = 'regexpMatch';
      }
    } else if (ch === '?') {
      go += '[^/]';
      js += '[^/]';
      matchType = 'regexpMatch';
    } else if (REGEX_LITERALS.includes(ch)) {
      go += `\\${ch}`;
      js += `\\${ch}`;
    } else if (ch === '\\') {
      const next = chars[i + 1];
      if (next === undefined) {
        go += '\\';
        js += '\\\\';
      } else {
        i++;
        go += `\\${next}`;
        js += escapeJs(next, inClass);
        matchType = 'regexpMatch';
      }
    } else if (ch === '[') {
      go += ch;
      matchType = 'regexpMatch';
      if (inClass) {
        js += '\\[';
      } else {
        js += '[';
        inClass = true;
        classFirst = true;
      }
    } else if (ch === ']') {
      go += ch;
      matchType = 'regexpMatch';
      // Go reads a `]` first in a class (or outside one) as a literal.
      if (inClass && !wasClassFirst) {
        js += ']';
        inClass = false;
      } else {
        js += '\\]';
      }
    } else {
      go += ch;
      js += ch;
      if (ch === '^' && wasClassFirst) classFirst = true;
    }
  }
  if (matchType !== 'regexpMatch') return { matchType };
  go += '$';
  js += '$';
  try {
    // JavaScript's parser checks the syntax (an unclosed class, a bad range); the linear matcher runs it.
    new RegExp(js, 'u');
  } catch (err) {
    throw new DockerfileError(`Cannot compile ignore pattern ${JSON.stringify(pattern)}: syntax error in pattern`, {
      code: 'DOCKERFILE_INVALID',
      cause: err,
    });
  }
  return { matchType, goSource: go, regexp: new LinearRegExp(js) };
}

