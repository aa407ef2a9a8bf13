import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PatternMatcher } from '../../frontend/index.js';
import { fuzzParams, fuzzTimeout } from './budget.js';

// A reference model of moby/patternmatcher on clean patterns without classes or escapes: each pattern becomes a
// JavaScript regular expression the plain way (short inputs keep backtracking cheap), a pattern matches a path when it
// matches the path or one of its parent folders, and the last pattern that matches decides (`!` keeps the path).
function referenceRegExp(pattern: string): RegExp {
  let src = '^';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] ?? '';
    if (ch === '*' && pattern[i + 1] === '*') {
      i++;
      if (pattern[i + 1] === '/') i++;
      src += i + 1 >= pattern.length ? '.*' : '(?:.*/)?';
    } else if (ch === '*') src += '[^/]*';
    else if (ch === '?') src += '[^/]';
    else src += ch.replace(/[.]/g, '\\.');
  }
  return new RegExp(`${src}$`, 's');
}

function referenceMatch(pattern: string, path: string): boolean {
  // moby's shortcut for a pattern that opens with ** and has no other wildcard: a plain suffix test (`**b` takes `ab`).
  if (pattern.startsWith('**') && !/[*?]/.test(pattern.slice(2))) {
    const suffix = pattern.slice(2);
    return path.endsWith(suffix) || (suffix.startsWith('/') && path === suffix.slice(1));
  }
  return referenceRegExp(pattern).test(path);
}

function referenceExcluded(patterns: readonly { pattern: string; exception: boolean }[], path: string): boolean {
  const parts = path.split('/');
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let excluded = false;
  for (const { pattern, exception } of patterns) {
    if (candidates.some((c) => referenceMatch(pattern, c))) excluded = !exception;
  }
  return excluded;
}

const patternSegment = fc.constantFrom('a', 'b', 'ab', 'a.b', '*', '?', '**', 'a*', '*b', '?a', '**a', 'a?b', '*.b');
const pattern = fc.record({ segments: fc.array(patternSegment, { minLength: 1, maxLength: 4 }), exception: fc.boolean() }).map(({ segments, exception }) => ({ pattern: segments.join('/'), exception }));
const pathSegment = fc.constantFrom('a', 'b', 'ab', 'ba', 'a.b', 'aab', '.a', 'é');
const path = fc.array(pathSegment, { minLength: 1, maxLength: 5 }).map((s) => s.join('/'));

describe('.dockerignore matching against a reference model', () => {
  it('excludes exactly the paths the reference model excludes', () => {
    const seen = { excluded: 0, kept: 0 };
    fc.assert(
      fc.property(fc.array(pattern, { minLength: 1, maxLength: 5 }), fc.array(path, { minLength: 1, maxLength: 8 }), (patterns, paths) => {
        const matcher = new PatternMatcher(patterns.map((p) => `${p.exception ? '!' : ''}${p.pattern}`));
        for (const p of paths) {
          const excluded = referenceExcluded(patterns, p);
          expect(matcher.matchesOrParentMatches(p), `${JSON.stringify(patterns)} ${p}`).toBe(excluded);
          seen[excluded ? 'excluded' : 'kept']++;
        }
      }),
      fuzzParams(300),
    );
    // Both outcomes are exercised, not one by accident of the generators.
    expect(seen.excluded).toBeGreaterThan(100);
    expect(seen.kept).toBeGreaterThan(100);
  }, fuzzTimeout(60_000));
});
