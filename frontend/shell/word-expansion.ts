import { DockerfileError } from '../../base/errors.js';
import { replaceShellPattern, trimShellPrefix, trimShellSuffix } from './pattern.js';
import { isDigit, isLetter } from './unicode.js';
import { WordCollector } from './word-collector.js';

/** ExpansionModes are BuildKit's lexer switches (all off for normal instruction processing). */
export interface ExpansionModes {
  /** Keep quote characters in the output. */
  readonly rawQuotes: boolean;
  /** Keep escape tokens in the output. */
  readonly rawEscapes: boolean;
  /** Leave references to unset variables as written. */
  readonly skipUnsetEnv: boolean;
  /** Treat quotes as ordinary characters. */
  readonly skipProcessQuotes: boolean;
}

/** WordExpansionOptions configures one expansion run. */
export interface WordExpansionOptions {
  readonly escapeToken: string;
  readonly lookup: (name: string) => string | undefined;
  readonly modes: ExpansionModes;
  /** The longest result allowed, in UTF-16 code units; a longer one throws ExpansionLimitError. */
  readonly maxLength: number;
}

/** ExpansionLimitError is an expansion that would grow past the limit; it is a DockerfileError the lexer rewords. */
export class ExpansionLimitError extends DockerfileError {
  constructor(readonly limit: number) {
    super(`the result is longer than ${limit} characters`, { code: 'DOCKERFILE_INVALID' });
  }
}

const EOF = '';
const SPECIAL_PARAMS = '@*#?-$!0';

function syntaxError(message: string): DockerfileError {
  return new DockerfileError(message, { code: 'DOCKERFILE_INVALID' });
}

/** WordExpansion expands one word; it holds the scanner state and the variables looked up. */
export class WordExpansion {
  readonly matched = new Set<string>();
  readonly unmatched = new Set<string>();
  private readonly chars: string[];
  private pos = 0;
  private rawEscapes: boolean;
  private readonly checkLength = (length: number): void => {
    if (length > this.options.maxLength) throw new ExpansionLimitError(this.options.maxLength);
  };

  constructor(
    word: string,
    private readonly options: WordExpansionOptions,
  ) {
    this.chars = Array.from(word);
    this.rawEscapes = options.modes.rawEscapes;
  }

  /** run expands the whole word. */
  run(): { result: string; words: string[] } {
    return this.processStopOn(EOF, this.options.modes.rawEscapes);
  }

  private peek(): string {
    return this.chars[this.pos] ?? EOF;
  }

  private next(): string {
    const ch = this.chars[this.pos] ?? EOF;
    if (ch !== EOF) this.pos++;
    return ch;
  }

  private processStopOn(stop: string, rawEscapes: boolean): { result: string; words: string[] } {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      return this.scanUntil(stop);
    } finally {
      this.rawEscapes = saved;
    }
  }

  private scanUntil(stop: string): { result: string; words: string[] } {
    const words = new WordCollector();
    let result = '';
    const { escapeToken, modes } = this.options;
    while (this.peek() !== EOF) {
      let ch = this.peek();
      if (stop !== EOF && ch === stop) {
        this.next();
        return { result, words: words.finish() };
      }
      if (ch === '$') {
        const value = this.processDollar();
        this.checkLength(result.length + value.length);
        result += value;
        words.addString(value);
      } else if (!modes.skipProcessQuotes && (ch === "'" || ch === '"')) {
        const value = ch === "'" ? this.processSingleQuote() : this.processDoubleQuote();
        this.checkLength(result.length + value.length);
        result += value;
        words.addRawString(value);
      } else {
        ch = this.next();
        if (ch === escapeToken) {
          if (this.rawEscapes) {
            words.addRawChar(ch);
            result += ch;
          }
          // The escape token escapes the next character, except at the end of the word.
          ch = this.next();
          if (ch === EOF) break;
          words.addRawChar(ch);
        } else {
          words.addChar(ch);
        }
        result += ch;
      }
    }
    if (stop !== EOF) throw syntaxError(`unexpected end of statement while looking for matching ${stop}`);
    return { result, words: words.finish() };
  }

  private processSingleQuote(): string {
    // Everything up to the next single quote is literal; a single quote cannot be escaped inside.
    const raw = this.options.modes.rawQuotes;
    const opening = this.next();
    let result = raw ? opening : '';
    for (;;) {
      const ch = this.next();
      if (ch === EOF) throw syntaxError('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") return raw ? result + ch : result;
      result += ch;
    }
  }

  private processDoubleQuote(): string {
    // Only $, the escape token and " are special; an escape before any other character stays.
    const raw = this.options.modes.rawQuotes;
    const { escapeToken } = this.options;
    const opening = this.next();
    let result = raw ? opening : '';
    for (;;) {
      const peeked = this.peek();
      if (peeked === EOF) throw syntaxError('unexpected end of statement while looking for matching double-quote');
      if (peeked === '"') {
        const ch = this.next();
        return raw ? result + ch : result;
      }
      if (peeked === '$') {
        const value = this.processDollar();
        this.checkLength(result.length + value.length);
        result += value;
        continue;
      }
      let ch = this.next();
      if (ch === escapeToken) {
        if (this.rawEscapes) result += ch;
        const after = this.peek();
        if (after === EOF) continue;
        if (after === '"' || after === '$' || after === escapeToken) ch = this.next();
      }
      result += ch;
    }
  }

  private processDollar(): string {
    this.next();
    if (this.peek() !== '{') {
      const name = this.processName();
      if (name === '') return '$';
      const value = this.getEnv(name);
      if (value === undefined && this.options.modes.skipUnsetEnv) return `$${name}`;
      return value ?? '';
    }
    this.next();
    const first = this.peek();
    if (first === EOF) throw syntaxError("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw syntaxError('syntax error: bad substitution');
    const name = this.processName();
    const ch = this.next();
    if (ch === '}') {
      const value = this.getEnv(name);
      if (value === undefined && this.options.modes.skipUnsetEnv) return `\${${name}}`;
      return value ?? '';
    }
    if (ch === ':') return this.processModifier(name, this.next(), true);
    if ('+-?#%'.includes(ch) && ch !== EOF) return this.processModifier(name, ch, false);
    if (ch === '/') return this.processReplace(name);
    throw syntaxError(`unsupported modifier (${ch}) in substitution`);
  }

  private processModifier(name: string, modifier: string, nullIsUnset: boolean): string {
    const modifierText = nullIsUnset ? `:${modifier}` : modifier;
    const isTrim = modifier === '#' || modifier === '%';
    if (nullIsUnset && isTrim) throw syntaxError(`unsupported modifier (${modifierText}) in substitution`);
    let word: string;
    try {
      word = this.processStopOn('}', isTrim).result;
    } catch (err) {
      if (this.peek() === EOF && !(err instanceof ExpansionLimitError)) throw syntaxError("syntax error: missing '}'");
      throw err;
    }
    const value = this.getEnv(name);
    if (value === undefined && this.options.modes.skipUnsetEnv) return `\${${name}${modifierText}${word}}`;
    const unset = value === undefined || (nullIsUnset && value === '');
    switch (modifier) {
      case '-':
        return unset ? word : (value ?? '');
      case '+':
        return unset ? '' : word;
      case '?':
        if (value === undefined) throw syntaxError(`${name}: ${word === '' ? 'is not allowed to be unset' : word}`);
        if (unset) throw syntaxError(`${name}: ${word === '' ? 'is not allowed to be empty' : word}`);
        return value;
      case '#':
      case '%': {
        // One # or % takes the shortest match, two take the longest.
        const greedy = word.startsWith(modifier);
        const pattern = greedy ? word.slice(1) : word;
        return modifier === '%'
          ? trimShellSuffix(pattern, value ?? '', greedy)
          : trimShellPrefix(pattern, value ?? '', greedy);
      }
      default:
        throw syntaxError(`unsupported modifier (${modifierText}) in substitution`);
    }
  }

  private processReplace(name: string): string {
    const all = this.peek() === '/';
    if (all) this.next();
    let pattern: string;
    try {
      pattern = this.processStopOn('/', true).result;
    } catch (err) {
      if (this.peek() === EOF && !(err instanceof ExpansionLimitError)) throw syntaxError("syntax error: missing '/' in ${}");
      throw err;
    }
    let replacement: string;
    try {
      replacement = this.processStopOn('}', true).result;
    } catch (err) {
      if (this.peek() === EOF && !(err instanceof ExpansionLimitError)) throw syntaxError("syntax error: missing '}'");
      throw err;
    }
    const value = this.getEnv(name);
    if (value === undefined && this.options.modes.skipUnsetEnv) return `\${${name}/${pattern}/${replacement}}`;
    return replaceShellPattern(value ?? '', pattern, replacement, all, this.checkLength);
  }

  private processName(): string {
    // A name is a run of digits, one special parameter, or letters, digits and underscores.
    let name = '';
    while (this.peek() !== EOF) {
      const ch = this.peek();
      if (name === '' && isDigit(ch)) {
        while (this.peek() !== EOF && isDigit(this.peek())) name += this.next();
        return name;
      }
      if (name === '' && SPECIAL_PARAMS.includes(ch)) return this.next();
      if (!isLetter(ch) && !isDigit(ch) && ch !== '_') break;
      name += this.next();
    }
    return name;
  }

  private getEnv(name: string): string | undefined {
    const value = this.options.lookup(name);
    if (value === undefined) this.unmatched.add(name);
    else this.matched.add(name);
    return value;
  }
}
