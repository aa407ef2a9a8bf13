// The checks BuildKit runs as it dispatches an instruction of a stage (not ONBUILD triggers).
import { posix } from 'node:path';
import { PatternMatcher } from '../dockerignore/pattern-matcher.js';
import type { AddInstruction, CopyInstruction } from '../instructions/index.js';
import type { CompileContext } from './context.js';
import type { StageInstruction } from './dispatch.js';
import { expandWord } from './expand.js';
import type { StageState } from './stage-state.js';

const SECRET_WORDS = ['apikey', 'auth', 'credential', 'credentials', 'key', 'password', 'pword', 'passwd', 'secret', 'token'];
const ALLOWED_WORDS = ['public', 'file', 'version'];
const wordIn = (words: readonly string[]): RegExp => new RegExp(`(?:_|^)(?:${words.join('|')})(?:_|$)`, 'i');
const SECRET = wordIn(SECRET_WORDS);
const ALLOWED = wordIn(ALLOWED_WORDS);

/** looksSecret tells whether an ARG or ENV name reads like sensitive data: `GITHUB_TOKEN`, `password`, but not `PUBLIC_KEY`. */
export function looksSecret(name: string): boolean {
  return SECRET.test(name) && !ALLOWED.test(name);
}

/**
 * checkInstruction runs the per-instruction checks: WorkdirRelativePath (the first WORKDIR the Dockerfile sets is
 * relative), MultipleInstructionsDisallowed (a CMD, ENTRYPOINT or HEALTHCHECK given again: reported at the one
 * that is ignored) and SecretsUsedInArgOrEnv.
 */
export function checkInstruction(ctx: CompileContext, state: StageState, item: StageInstruction): void {
  if (item.onBuild) return;
  const i = item.instruction;
  switch (i.kind) {
    case 'workdir': {
      const path = expandWord(ctx, state, i.path, i.location);
      if (!state.workdirSet && !posix.isAbsolute(path)) {
        ctx.warnings.add('WorkdirRelativePath', `Relative workdir ${JSON.stringify(path)} can have unexpected results if the base image changes`, i.location);
      }
      state.workdirSet = true;
      return;
    }
    case 'cmd':
    case 'entrypoint':
    case 'healthcheck': {
      const before = state.lastGiven.get(i.kind);
      if (before !== undefined) {
        const name = i.kind.toUpperCase();
        ctx.warnings.add('MultipleInstructionsDisallowed', `Multiple ${name} instructions should not be used in the same stage because only the last one will be used`, before, i.location.startLine);
      }
      state.lastGiven.set(i.kind, i.location);
      return;
    }
    case 'arg':
      for (const { key } of i.args) if (looksSecret(key)) secretWarning(ctx, 'ARG', key, i);
      return;
    case 'env':
      for (const { key } of i.pairs) if (looksSecret(key)) secretWarning(ctx, 'ENV', key, i);
      return;
    default:
      return;
  }
}

function secretWarning(ctx: CompileContext, kind: string, key: string, i: StageInstruction['instruction']): void {
  ctx.warnings.add('SecretsUsedInArgOrEnv', `Do not use ARG or ENV instructions for sensitive data (${kind} ${JSON.stringify(key)})`, i.location);
}

const ROOT_PATTERNS = new Set(['*', '**', '**/*']);
const matchers = new WeakMap<readonly string[], PatternMatcher>();

/**
 * checkIgnoredSources warns of COPY or ADD sources from the build context that its ignore file excludes
 * (CopyIgnoredFile). As in BuildKit, only an ignore file without `!` exceptions is checked, and the context root
 * only when a pattern excludes everything in it.
 */
export function checkIgnoredSources(ctx: CompileContext, c: CopyInstruction | AddInstruction, paths: readonly string[]): void {
  const patterns = ctx.options.contextIgnore;
  if (patterns === undefined || patterns.length === 0) return;
  let matcher = matchers.get(patterns);
  if (matcher === undefined) {
    matcher = new PatternMatcher(patterns);
    matchers.set(patterns, matcher);
  }
  if (matcher.hasExclusions) return;
  for (const p of paths) {
    const src = posix.normalize(p).replace(/(.)\/+$/, '$1');
    if ((src === '.' || src === '/') && !matcher.patterns.some((x) => !x.exclusion && ROOT_PATTERNS.has(x.cleanedPattern))) continue;
    if (!matcher.matchesOrParentMatches(src)) continue;
    const verb = c.kind === 'add' ? 'Add' : 'Copy';
    ctx.warnings.add('CopyIgnoredFile', `Attempting to ${verb} file ${JSON.stringify(src)} that is excluded by .dockerignore`, c.location);
  }
}
