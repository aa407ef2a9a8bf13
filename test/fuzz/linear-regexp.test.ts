import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LinearRegExp } from '../../base/linear-regexp.js';
import { fuzzParams, fuzzTimeout } from './budget.js';

// The linear matcher must pick exactly the match JavaScript's backtracking engine picks (leftmost-first, greedy or
// lazy), on the kinds of pattern the shell and .dockerignore compile to. Inputs stay short so that the backtracking
// reference itself cannot take long.
const atom = fc.constantFrom('a', 'b', '/', '\\.', '\\n', '\\*', '[^/]', '[^\\n]', '[ab]', '[^a]', '[a-b/]', '\\d', '\\w', '\\x07', '\u00e9', '\u{1F600}');
const quantified = fc.tuple(atom, fc.constantFrom('', '', '*', '*?', '?', '??')).map(([a, q]) => a + q);
const group = fc.tuple(fc.array(quantified, { maxLength: 2 }), atom).map(([items, last]) => `(?:${items.join('')}${last})?`);
const piece = fc.oneof({ weight: 5, arbitrary: quantified }, { weight: 1, arbitrary: group }, { weight: 1, arbitrary: fc.constantFrom('\\b', '\\B') });
const source = fc
  .tuple(fc.boolean(), fc.array(piece, { maxLength: 6 }), fc.boolean())
  .map(([start, pieces, end]) => `${start ? '^' : ''}${pieces.join('')}${end ? '$' : ''}`);
const input = fc.array(fc.constantFrom('a', 'b', '/', '.', '\n', '*', '1', '\u00e9', '\u{1F600}'), { maxLength: 12 }).map((cs) => cs.join(''));

describe('LinearRegExp', () => {
  it('finds the match the backtracking engine finds, from any start', () => {
    fc.assert(
      fc.property(source, input, fc.nat(14), (src, given, from) => {
        let text = given;
        // V8 tests \b inside a surrogate pair; Go and the linear matcher step by code point.
        if (/\\[bB]/.test(src)) text = text.replace(/\u{1F600}/gu, '');
        // Callers start at code point boundaries only.
        let start = Math.min(from, text.length);
        if (start > 0 && start < text.length && /[\uDC00-\uDFFF]/.test(text.charAt(start))) start++;
        const reference = new RegExp(src, 'gu');
        reference.lastIndex = start;
        const m = reference.exec(text);
        const want = m === null ? undefined : { index: m.index, end: m.index + m[0].length };
        expect(new LinearRegExp(src).exec(text, start)).toEqual(want);
      }),
      fuzzParams(1500),
    );
  }, fuzzTimeout(60_000));

  it('stays linear where backtracking is exponential (regression: *a*a*a*a*a*a*c on a long value)', () => {
    const re = new LinearRegExp('^[^\\n]*a[^\\n]*a[^\\n]*a[^\\n]*a[^\\n]*a[^\\n]*a[^\\n]*c');
    expect(re.exec('a'.repeat(20_000))).toBeUndefined();
    expect(re.exec(`${'a'.repeat(20_000)}c`)).toEqual({ index: 0, end: 20_001 });
  }, 20_000);

  it('follows thousands of stars without overflowing the stack', () => {
    const re = new LinearRegExp(`^${'[^/]*'.repeat(20_000)}x$`);
    expect(re.test('abcx')).toBe(true);
    expect(re.test('a/x')).toBe(false);
  }, 20_000);

  it('refuses syntax outside the supported subset', () => {
    for (const src of ['(?:a*)?', 'a|b', '(a)', 'a+', 'a{2}', '(?:a', '[ab', '\\k']) expect(() => new LinearRegExp(src), src).toThrow(/not supported/);
  });
});
