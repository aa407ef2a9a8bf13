import { isSpace } from './unicode.js';

/** WordCollector splits expanded text into words: unquoted white space separates, quoted text stays whole. */
export class WordCollector {
  private readonly words: string[] = [];
  private word = '';
  private inWord = false;

  /** addChar adds one unquoted character; white space ends the current word. */
  addChar(ch: string): void {
    if (isSpace(ch)) {
      if (this.inWord && this.word.length > 0) {
        this.words.push(this.word);
        this.word = '';
        this.inWord = false;
      }
      return;
    }
    this.addRawChar(ch);
  }

  /** addRawChar adds one character that never separates words. */
  addRawChar(ch: string): void {
    this.word += ch;
    this.inWord = true;
  }

  /** addString adds unquoted text, such as the value of an unquoted variable. */
  addString(text: string): void {
    // Runs of white space and of other characters, so that a long value is added in slices, not one character at a time.
    for (const m of text.matchAll(/\p{White_Space}+|\P{White_Space}+/gu)) {
      if (isSpace(m[0].slice(0, 1))) this.addChar(' ');
      else this.addRawString(m[0]);
    }
  }

  /** addRawString adds quoted text as part of the current word. */
  addRawString(text: string): void {
    this.word += text;
    this.inWord = true;
  }

  /** finish returns the collected words. */
  finish(): string[] {
    if (this.word.length > 0) {
      this.words.push(this.word);
      this.word = '';
      this.inWord = false;
    }
    return this.words;
  }
}
