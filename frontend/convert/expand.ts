import { DockerfileError, type SourceLocation } from '../../base/errors.js';
import { suggestNearest } from '../instructions/index.js';
import type { ProcessWordResult, ShellLexer } from '../shell/index.js';
import type { CompileContext } from './context.js';
import type { StageState } from './stage-state.js';

/** runLexer expands a word, turning lexer errors into errors at the instruction. */
export function runLexer(lexer: ShellLexer, word: string, env: ReadonlyMap<string, string>, location: SourceLocation): ProcessWordResult {
  try {
    return lexer.processWord(word, env);
  } catch (err) {
    if (err instanceof DockerfileError) throw new DockerfileError(err.message, { location, code: err.code, cause: err });
    throw err;
  }
}

/** reportUndefinedVars warns about variables that are neither set nor declared ARGs (UndefinedVar). */
export function reportUndefinedVars(ctx: CompileContext, state: StageState, unmatched: ReadonlySet<string>, location: SourceLocation): void {
  for (const name of unmatched) {
    if (state.buildArgs.some((a) => a.key === name)) continue;
    const near = suggestNearest(name, state.env.keys(), true);
    const message = `Usage of undefined variable '$${name}'${near === undefined ? '' : ` (did you mean $${near}?)`}`;
    ctx.warnings.add('UndefinedVar', message, location);
  }
}

/** expandWord expands one instruction word in the stage scope. */
export function expandWord(ctx: CompileContext, state: StageState, word: string, location: SourceLocation): string {
  const r = runLexer(ctx.lexer, word, state.env, location);
  reportUndefinedVars(ctx, state, r.unmatched, location);
  return r.result;
}

/** expandWords expands one instruction word and splits the result into words. */
export function expandWords(ctx: CompileContext, state: StageState, word: string, location: SourceLocation): string[] {
  const r = runLexer(ctx.lexer, word, state.env, location);
  reportUndefinedVars(ctx, state, r.unmatched, location);
  return [...r.words];
}

/** displayText is an instruction's source text with variables expanded and its keyword upper-cased, for vertex names. */
export function displayText(ctx: CompileContext, state: StageState, original: string, env: ReadonlyMap<string, string> = state.env): string {
  let text = original;
  try {
    text = ctx.displayLexer.processWord(original, env).result;
  } catch (err) {
    // A name is only for display: fall back to the source text when it cannot be expanded.
    if (!(err instanceof DockerfileError)) throw err;
  }
  const m = /^(\s*)(\S+)(.*)$/s.exec(text);
  return m === null ? text : `${m[2]?.toUpperCase() ?? ''}${m[3] ?? ''}`;
}
