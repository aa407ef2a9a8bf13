import { DockerfileError } from '../../base/errors.js';
import { cleanPath, dirName } from './clean-path.js';
import { compilePattern, type CompiledPattern } from './compile-pattern.js';
import { validateGlob } from './glob-syntax.js';

/** IgnorePattern is one cleaned pattern of a PatternMatcher. */
export class IgnorePattern {
  private compiled: CompiledPattern | undefined;

  constructor(
    /** The cleaned pattern without its `!`. */
    readonly cleanedPattern: string,
    /** True for a `!` exception pattern. */
    readonly exclusion: boolean,
  ) {}

  /** compile sorts the pattern into its match type; it throws for a pattern the regexp engine rejects. */
  compile(): CompiledPattern {
    // A failed compile is not cached, so every later match reports the bad pattern again.
    this.compiled ??= compilePattern(this.cleanedPattern);
    return this.compiled;
  }

  /** match reports whether path (slash-separated, relative) matches this pattern on its own. */
  match(path: string): boolean {
    const compiled = this.compile();
    const p = this.cleanedPattern;
    switch (compiled.matchType) {
      case 'exactMatch':
        return path === p;
      case 'prefixMatch':
        return path.startsWith(p.slice(0, -2));
      case 'suffixMatch': {
        const suffix = p.slice(2);
        // `**/foo` also matches `foo` itself.
        return path.endsWith(suffix) || (suffix.startsWith('/') && path === suffix.slice(1));
      }
      case 'regexpMatch':
        return compiled.regexp.test(path);
    }
  }
}

/** PatternMatcher decides whether context paths are excluded by .dockerignore patterns (moby/patternmatcher). */
export class PatternMatcher {
  readonly patterns: readonly IgnorePattern[];
  /** True when some pattern is a `!` exception. */
  readonly hasExclusions: boolean;

  constructor(patterns: readonly string[]) {
    const out: IgnorePattern[] = [];
    for (const raw of patterns) {
      let p = raw.replace(/^\p{White_Space}+|\p{White_Space}+$/gu, '');
      if (p === '') continue;
      p = cleanPath(p);
      const exclusion = p.startsWith('!');
      if (exclusion) {
        if (p.length === 1) {
          throw new DockerfileError('Cannot use ignore pattern "!": illegal exclusion pattern', {
            code: 'DOCKERFILE_INVALID',
          });
        }
        p = p.slice(1);
      }
      validateGlob(p);
      out.push(new IgnorePattern(p, exclusion));
    }
    this.patterns = out;
    this.hasExclusions = out.some((p) => p.exclusion);
  }

  /**
   * matchesOrParentMatches reports whether path is excluded: later patterns override earlier ones, and a
   * pattern that matches any parent directory of path counts as matching path.
   */
  matchesOrParentMatches(path: string): boolean {
    let matched = false;
    const parent = dirName(path);
    const parentDirs = parent.split('/');
    for (const pattern of this.patterns) {
      // Only an exception can undo a match, and only a normal pattern can make one.
      if (pattern.exclusion !== matched) continue;
      let hit = pattern.match(path);
      if (!hit && parent !== '.') {
        for (let i = 1; i <= parentDirs.length && !hit; i++) hit = pattern.match(parentDirs.slice(0, i).join('/'));
      }
      if (hit) matched = !pattern.exclusion;
    }
    return matched;
  }
}

const GLOB_META = /[*?[\\]/;

/**
 * mayReincludeBelow reports whether an exception pattern could keep something below dir (a relative path
 * without a trailing slash), so that an excluded dir must still be read, as BuildKit's context walk does.
 */
export function mayReincludeBelow(matcher: PatternMatcher, dir: string): boolean {
  const dirSlash = `${dir}/`;
  return matcher.patterns.some((p) => {
    if (!p.exclusion) return false;
    const pattern = p.cleanedPattern;
    const meta = pattern.search(GLOB_META);
    if (meta < 0) return `${pattern}/`.startsWith(dirSlash);
    // With wildcards, only the literal part in front of the first one tells where a match can lie.
    const literal = pattern.slice(0, meta);
    return dirSlash.startsWith(literal) || literal.startsWith(dirSlash);
  });
}

/** matches is the older whole-path check: it cleans path first and never excludes the context root. */
export function matches(path: string, patterns: readonly string[]): boolean {
  const matcher = new PatternMatcher(patterns);
  const file = cleanPath(path);
  if (file === '.') return false;
  return matcher.matchesOrParentMatches(file);
}
