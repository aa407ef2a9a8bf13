import { DockerfileError } from '../../base/errors.js';

function badPattern(pattern: string): DockerfileError {
  return new DockerfileError(`Cannot use ignore pattern ${JSON.stringify(pattern)}: syntax error in pattern`, {
    code: 'DOCKERFILE_INVALID',
  });
}

/**
 * validateGlob throws when pattern is malformed for Go's filepath.Match (Unix rules): a trailing `\`,
 * an unclosed `[`, an empty class, or a range with a missing end.
 */
export function validateGlob(pattern: string): void {
  const chars = Array.from(pattern);
  let i = 0;
  // readClassChar consumes one (possibly escaped) class character; something must follow it.
  const readClassChar = (): void => {
    const ch = chars[i];
    if (ch === undefined || ch === '-' || ch === ']') throw badPattern(pattern);
    if (ch === '\\') {
      i++;
      if (i >= chars.length) throw badPattern(pattern);
    }
    i++;
    if (i >= chars.length) throw badPattern(pattern);
  };
  while (i < chars.length) {
    const ch = chars[i];
    if (ch === '\\') {
      if (i + 1 >= chars.length) throw badPattern(pattern);
      i += 2;
    } else if (ch === '[') {
      i++;
      if (chars[i] === '^') i++;
      for (let ranges = 0; ; ranges++) {
        if (chars[i] === ']' && ranges > 0) {
          i++;
          break;
        }
        readClassChar();
        if (chars[i] === '-') {
          i++;
          readClassChar();
        }
      }
    } else {
      i++;
    }
  }
}
