import { PatternMatcher } from '../frontend/index.js';

/** compileExcludes compiles COPY --exclude patterns with .dockerignore semantics. */
export function compileExcludes(patterns: readonly string[]): (relPath: string) => boolean {
  const matcher = new PatternMatcher(patterns);
  return (relPath) => matcher.matchesOrParentMatches(relPath);
}
