/** isSpace reports whether a character is white space in the Unicode sense (Go's unicode.IsSpace). */
export function isSpace(ch: string): boolean {
  return /^\p{White_Space}$/u.test(ch);
}

/** isLetter reports whether a character is a Unicode letter (Go's unicode.IsLetter). */
export function isLetter(ch: string): boolean {
  return /^\p{L}$/u.test(ch);
}

/** isDigit reports whether a character is a Unicode decimal digit (Go's unicode.IsDigit). */
export function isDigit(ch: string): boolean {
  return /^\p{Nd}$/u.test(ch);
}
