import { readdirSync } from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../base/errors.js';
import { mayReincludeBelow, PatternMatcher } from '../frontend/index.js';

/**
 * isSkippedDirError tells whether reading an excluded directory failed in a way BuildKit's context walk skips:
 * gone, not a directory, or unreadable (it ignores permission errors below an excluded directory).
 */
export function isSkippedDirError(err: unknown): boolean {
  const code = errnoCode(err);
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES' || code === 'EPERM';
}

/**
 * ContextFilter decides which paths of a context folder its .dockerignore keeps, as BuildKit's context walk
 * does: a file is kept when the patterns do not exclude it; a directory when they do not exclude it or when it
 * holds a kept entry, which only an exception pattern reaching below it can give.
 */
export class ContextFilter {
  private readonly matcher: PatternMatcher;
  /** Excluded directories already read: whether each holds a kept entry. */
  private readonly holdsKept = new Map<string, boolean>();

  constructor(
    private readonly root: string,
    patterns: readonly string[] | PatternMatcher,
  ) {
    this.matcher = patterns instanceof PatternMatcher ? patterns : new PatternMatcher(patterns);
  }

  /** isExcluded tells whether a path (slash-separated, relative to the root) is left out of the context. */
  isExcluded(relPath: string): boolean {
    if (!this.matcher.matchesOrParentMatches(relPath)) return false;
    return !this.reincludesBelow(relPath);
  }

  /**
   * reincludesBelow tells whether an excluded path is a directory holding a kept entry. It reads synchronously
   * because its callers filter inside synchronous directory walks; only excluded directories that an exception
   * pattern could reach are read, each once.
   */
  private reincludesBelow(dir: string): boolean {
    if (!mayReincludeBelow(this.matcher, dir)) return false;
    const known = this.holdsKept.get(dir);
    if (known !== undefined) return known;
    let names: string[];
    try {
      names = readdirSync(path.join(this.root, dir));
    } catch (err) {
      if (!isSkippedDirError(err)) throw err;
      names = [];
    }
    const holds = names.some((name) => !this.isExcluded(`${dir}/${name}`));
    this.holdsKept.set(dir, holds);
    return holds;
  }
}
