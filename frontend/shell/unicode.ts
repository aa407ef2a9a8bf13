/** isSpace reports whether a character is white space in the Unicode sense (Go's unicode.IsSpace). */
export function isSpace(ch: string): boolean {
  const c = ch.charCodeAt(0);
  if (c < 0x80) return ch.length === 1 && (c === 0x20 || (c >= 0x09 && c <= 0x0d));
  return /^\p{White_Space}$/u.test(ch);
}

/** isLetter reports whether a character is a Unicode letter (Go's unicode.IsLetter). */
export function isLetter(ch: string): boolean {
  const c = ch.charCodeAt(0);
  if (c < 0x80) return ch.length === 1 && ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a));
  return /^\p{L}$/u.test(ch);
}

/** isDigit reports whether a character is a Unicode decimal digit (Go's unicode.IsDigit). */
export function isDigit(ch: string): boolean {
  const c = ch.charCodeAt(0);
  if (c < 0x80) return ch.length === 1 && c >= 0x30 && c <= 0x39;
  return /^\p{Nd}$/u.test(ch);
}
