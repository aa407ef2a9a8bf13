import { DockerfileError } from '../../base/errors.js';
import { ExpansionLimitError, WordExpansion, type ExpansionModes } from './word-expansion.js';

/**
 * MAX_EXPANSION_LENGTH bounds the result of one expansion (a word longer than this may keep its own length): 1 MiB of
 * text. BuildKit sets no bound, so `ARG A=$B$B$B…` chains grow without end and its frontend spends hours and
 * gigabytes on them. No working build needs more: Linux refuses any single argument or environment entry of a RUN
 * above 128 KiB (MAX_ARG_STRLEN) and all of them together above about 2 MiB, and docker's own API carries build
 * arguments in a request line that its server caps at 1 MiB.
 */
export const MAX_EXPANSION_LENGTH = 1024 * 1024;
/** MAX_TOTAL_EXPANSION bounds what one lexer (one Dockerfile's conversion) may produce in all, so memory stays bounded. */
export const MAX_TOTAL_EXPANSION = 64 * MAX_EXPANSION_LENGTH;

/** ShellEnv gives variable values: a map, or a lookup returning undefined for unset names. */
export type ShellEnv = ReadonlyMap<string, string> | ((name: string) => string | undefined);

/** ShellLexerOptions configures a ShellLexer; the flags beyond escapeToken serve heredoc detection. */
export interface ShellLexerOptions extends Partial<ExpansionModes> {
  /** The escape token: `\` (default) or a backtick. */
  readonly escapeToken?: string;
  /** The longest result of one expansion (MAX_EXPANSION_LENGTH unless given). */
  readonly maxLength?: number;
  /** The most this lexer produces over all its expansions (MAX_TOTAL_EXPANSION unless given). */
  readonly maxTotal?: number;
}

/** ProcessWordResult is one expanded word plus the variable names that were looked up. */
export interface ProcessWordResult {
  readonly result: string;
  readonly words: readonly string[];
  /** Names looked up and set (possibly to ""). */
  readonly matched: ReadonlySet<string>;
  /** Names looked up and not set. */
  readonly unmatched: ReadonlySet<string>;
}

/** ShellLexer expands variables and removes quotes in Dockerfile instruction arguments, like BuildKit's shell.Lex. */
export class ShellLexer {
  readonly escapeToken: string;
  private readonly modes: ExpansionModes;
  private readonly maxLength: number;
  private readonly maxTotal: number;
  private produced = 0;

  constructor(options: ShellLexerOptions = {}) {
    const escapeToken = options.escapeToken ?? '\\';
    if (escapeToken !== '\\' && escapeToken !== '`') {
      throw new DockerfileError(`Cannot use escape token "${escapeToken}": must be "\\" or "\`"`, {
        code: 'DOCKERFILE_SYNTAX',
      });
    }
    this.escapeToken = escapeToken;
    this.modes = {
      rawQuotes: options.rawQuotes ?? false,
      rawEscapes: options.rawEscapes ?? false,
      skipUnsetEnv: options.skipUnsetEnv ?? false,
      skipProcessQuotes: options.skipProcessQuotes ?? false,
    };
    this.maxLength = options.maxLength ?? MAX_EXPANSION_LENGTH;
    this.maxTotal = options.maxTotal ?? MAX_TOTAL_EXPANSION;
  }

  /** processWord expands and unquotes word into one string, keeping white space between words. */
  processWord(word: string, env: ShellEnv): ProcessWordResult {
    return this.process(word, env);
  }

  /** processWords expands word and splits the result into words on unquoted white space. */
  processWords(word: string, env: ShellEnv): string[] {
    return [...this.process(word, env).words];
  }

  private process(word: string, env: ShellEnv): ProcessWordResult {
    const lookup = typeof env === 'function' ? env : (name: string): string | undefined => env.get(name);
    const maxLength = Math.max(this.maxLength, word.length);
    const expansion = new WordExpansion(word, { escapeToken: this.escapeToken, lookup, modes: this.modes, maxLength });
    let run: { result: string; words: string[] };
    try {
      run = expansion.run();
    } catch (err) {
      if (err instanceof ExpansionLimitError) {
        throw new DockerfileError(`Cannot expand ${shortQuote(word)}: the result is longer than ${err.limit} characters, the limit of one expansion`, {
          code: 'DOCKERFILE_INVALID',
          cause: err,
          hint: 'a variable holding a long value is repeated, or nested variables multiply it',
        });
      }
      if (err instanceof DockerfileError) {
        throw new DockerfileError(`Cannot process ${JSON.stringify(word)}: ${err.message}`, {
          code: 'DOCKERFILE_INVALID',
          cause: err,
        });
      }
      throw err;
    }
    this.produced += run.result.length;
    if (this.produced > this.maxTotal) {
      throw new DockerfileError(`Cannot expand ${shortQuote(word)}: the expansions of this Dockerfile produce more than ${this.maxTotal} characters in all`, {
        code: 'DOCKERFILE_INVALID',
        hint: 'variables referring to long values are expanded too many times',
      });
    }
    return { result: run.result, words: run.words, matched: expansion.matched, unmatched: expansion.unmatched };
  }
}

/** shortQuote quotes a word for a message, cut to its first 60 characters. */
function shortQuote(word: string): string {
  const chars = Array.from(word.slice(0, 200));
  return chars.length > 60 ? `${JSON.stringify(chars.slice(0, 60).join(''))}…` : JSON.stringify(word);
}

/** parseEnvList reads a NAME=value list into a map; an entry without `=` is empty and the last entry wins. */
export function parseEnvList(list: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of list) {
    const i = entry.indexOf('=');
    if (i < 0) out.set(entry, '');
    else out.set(entry.slice(0, i), entry.slice(i + 1));
  }
  return out;
}
