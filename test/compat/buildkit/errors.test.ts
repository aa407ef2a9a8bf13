// Ported from moby/buildkit frontend/dockerfile/errors_test.go: each case names its test function. BuildKit reads the
// error's source map (file name, data, line ranges); tbuild prints it: `--> Dockerfile:N` and the lines marked `>>>`.
import { describe, expect } from 'vitest';
import { buildkitSuite } from './harness.js';

const CASES: [string, string, number[]][] = [
  ['invalidenv', 'from busybox\nenv', [2]],
  ['invalidrun', 'from scratch\nenv foo=bar\nrun what', [3]],
  ['invalidcopy', 'from scratch\nenv foo=bar\ncopy foo bar\nenv bar=baz', [3]],
  ['invalidflag', 'from scratch\nenv foo=bar\ncopy --foo=bar / /\nenv bar=baz', [3]],
  ['invalidcopyfrom', 'from scratch\nenv foo=bar\ncopy --from=invalid foo bar\nenv bar=baz', [3]],
  ['invalidmultiline', 'from scratch\nrun wh\\\nat\nenv bar=baz', [2, 3]],
];

describe('BuildKit errors_test.go', () => {
  const { build, port } = buildkitSuite('errors_test.go');

  // errors_test.go testErrorsSourceMap (its subtests but invalidsyntax, see NOT-PORTED.md; alpine there, busybox here)
  for (const [name, dockerfile, lines] of CASES) {
    port('testErrorsSourceMap', async () => {
      const res = await build({ files: { Dockerfile: dockerfile }, output: 'none' });
      expect(res.code).not.toBe(0);
      expect(res.stderr).toMatch(/--> Dockerfile:\d/);
      const marked = res.stderr
        .split('\n')
        .map((l) => /^\s*(\d+) \| >>> /.exec(l)?.[1])
        .filter((n): n is string => n !== undefined)
        .map(Number);
      expect(marked).toEqual(lines);
    }, name);
  }
});
