// Ported from moby/buildkit frontend/dockerfile/dockerfile_dockerignore_test.go: each case names its test function.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { buildkitSuite, file, ok } from './harness.js';

describe('BuildKit dockerfile_dockerignore_test.go', () => {
  const { build, context, port } = buildkitSuite('dockerfile_dockerignore_test.go');

  // dockerfile_dockerignore_test.go testDockerignore
  port('testDockerignore', async () => {
    const res = await build({
      files: {
        Dockerfile: '\nFROM scratch\nCOPY . .\n',
        foo: file('foo-contents'),
        bar: file('bar-contents'),
        baz: file('baz-contents'),
        bay: file('bay-contents'),
        '.dockerignore': file('\nba*\nDockerfile\n!bay\n.dockerignore\n'),
      },
    });
    ok(res);
    expect(await res.read('foo')).toBe('foo-contents');
    for (const gone of ['.dockerignore', 'Dockerfile', 'bar', 'baz']) {
      await expect(stat(join(res.out, gone)), gone).rejects.toMatchObject({ code: 'ENOENT' });
    }
    expect(await res.read('bay')).toBe('bay-contents');
  });

  // dockerfile_dockerignore_test.go testDockerignoreInvalid: the build must end (with an error) within 15 seconds.
  port('testDockerignoreInvalid', async () => {
    const started = Date.now();
    const res = await build({ files: { Dockerfile: '\nFROM scratch\nCOPY . .\n', '.dockerignore': file('!\n') }, output: 'none' });
    expect(res.code).not.toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  // dockerfile_dockerignore_test.go testDockerignoreOverride
  port('testDockerignoreOverride', async () => {
    const d = await context({
      Dockerfile: file('\nFROM busybox\nCOPY . .\nRUN [ -f foo ] && [ ! -f bar ]\n'),
      'Dockerfile.dockerignore': file('\nbar\n'),
      Dockerfile2: file('\nFROM busybox\nCOPY . .\nRUN [ ! -f foo ] && [ -f bar ]\n'),
      'Dockerfile2.dockerignore': file('\nfoo\n'),
      foo: file('contents0'),
      bar: file('contents0'),
    });
    ok(await build({ dir: d, output: 'none' }));
    ok(await build({ dir: d, output: 'none', file: 'Dockerfile2' }));
  });
});
