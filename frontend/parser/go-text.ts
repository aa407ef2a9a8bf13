/** isGoSpace reports whether ch is white space for Go's unicode.IsSpace. */
export function isGoSpace(ch: string): boolean {
  return /^\p{White_Space}$/u.test(ch);
}

/** trimGoSpace trims Unicode white space from both ends, like Go's strings.TrimSpace. */
export function trimGoSpace(s: string): string {
  return s.replace(/^\p{White_Space}+|\p{White_Space}+$/gu, '');
}

/** trimLeftGoSpace trims leading Unicode white space. */
export function trimLeftGoSpace(s: string): string {
  return s.replace(/^\p{White_Space}+/u, '');
}

/** splitWhitespace splits on runs of ASCII blanks other than newline, as BuildKit's argument splitting does. */
export function splitWhitespace(s: string, limit?: number): string[] {
  const re = /[\t\v\f\r ]+/;
  if (limit === undefined) return s.split(re);
  const m = re.exec(s);
  if (m === null) return [s];
  return [s.slice(0, m.index), s.slice(m.index + m[0].length)];
}
