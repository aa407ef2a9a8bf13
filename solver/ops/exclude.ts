import type { OpDeps } from './deps.js';
import { globComponentRegExp } from './glob.js';

/** ExcludeMatcher compiles exclude patterns (.dockerignore syntax) into a predicate over in-tree relative paths. */
export type ExcludeMatcher = (patterns: readonly string[]) => (relPath: string) => boolean;

/** excludeMatcherOf returns the injected matcher, or a plain per-component glob matcher when none was wired. */
export function excludeMatcherOf(deps: Pick<OpDeps, 'excludeMatcher'>): ExcludeMatcher {
  return deps.excludeMatcher ?? simpleMatcher;
}

function simpleMatcher(patterns: readonly string[]): (relPath: string) => boolean {
  const compiled = patterns.map((p) => p.replace(/^\/+|\/+$/g, '').split('/').map((c) => (c === '**' ? undefined : globComponentRegExp(c))));
  return (relPath) => {
    const parts = relPath.split('/');
    return compiled.some((pat) => matchParts(pat, 0, parts, 0));
  };
}

function matchParts(pat: readonly (RegExp | undefined)[], i: number, parts: readonly string[], j: number): boolean {
  if (i === pat.length) return true; // a match of a parent excludes what is below it
  if (j === parts.length) return pat.slice(i).every((p) => p === undefined);
  const p = pat[i];
  if (p === undefined) return matchParts(pat, i + 1, parts, j) || matchParts(pat, i, parts, j + 1);
  return p.test(parts[j] ?? '') && matchParts(pat, i + 1, parts, j + 1);
}
