import { DockerfileError } from '../../base/errors.js';
import { WordExpansion, type ExpansionModes } from './word-expansion.js';

/** ShellEnv gives variable values: a map, or a lookup returning undefined for unset names. */
export type ShellEnv = ReadonlyMap<string, string> | ((name: string) => string | undefined);

/** ShellLexerOptions configures a ShellLexer; the flags beyond escapeToken serve heredoc detection. */
export interface ShellLexerOptions extends Partial<ExpansionModes> {
  /** The escape token: `\` (default) or a backtick. */
  readonly escapeToken?: string;
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
    const expansion = new WordExpansion(word, { escapeToken: this.escapeToken, lookup, modes: this.modes });
    try {
      const { result, words } = expansion.run();
      return { result, words, matched: expansion.matched, unmatched: expansion.unmatched };
    } catch (err) {
      if (err instanceof DockerfileError) {
        throw new DockerfileError(`Cannot process ${JSON.stringify(word)}: ${err.message}`, {
          code: 'DOCKERFILE_INVALID',
          cause: err,
        });
      }
      throw err;
    }
  }
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
