// Ported from moby/buildkit frontend/dockerfile/dockerfile_cache_test.go: each case names its test function.
// BuildKit's no-cache frontend attribute is --no-cache (empty value) or --no-cache-filter (a stage name).
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { run } from '../../helpers/cli.js';
import { buildkitSuite, file, ok } from './harness.js';

describe('BuildKit dockerfile_cache_test.go', () => {
  const { build, context, port } = buildkitSuite('dockerfile_cache_test.go');

  // dockerfile_cache_test.go testNoCache
  port('testNoCache', async () => {
    const d = await context({
      Dockerfile: `
FROM busybox AS s0
RUN cat /dev/urandom | head -c 100 | sha256sum | tee unique
FROM busybox AS s1
RUN cat /dev/urandom | head -c 100 | sha256sum | tee unique2
FROM scratch
COPY --from=s0 unique /
COPY --from=s1 unique2 /
`,
    });
    const first = await build({ dir: d });
    ok(first);
    const second = await build({ dir: d, args: ['--no-cache'] });
    ok(second);
    expect(await second.read('unique')).not.toBe(await first.read('unique'));
    expect(await second.read('unique2')).not.toBe(await first.read('unique2'));
    const third = await build({ dir: d, args: ['--no-cache-filter', 's1'] });
    ok(third);
    expect(await third.read('unique')).toBe(await second.read('unique'));
    expect(await third.read('unique2')).not.toBe(await first.read('unique2'));
  });

  // dockerfile_cache_test.go testCacheMountModeNoCache
  port('testCacheMountModeNoCache', async () => {
    const d = await context({
      Dockerfile:
        '\nFROM busybox AS base\nARG FOO=abc\nRUN --mount=type=cache,target=/cache,mode=0773 touch /cache/$FOO && ls -l /cache | wc -l > /out\nFROM scratch\nCOPY --from=base /out /\n',
    });
    let res = await build({ dir: d });
    ok(res);
    expect(await res.read('out')).toBe('2\n');
    res = await build({ dir: d, args: ['--no-cache'], buildArgs: { FOO: 'def' } });
    ok(res);
    expect(await res.read('out')).toBe('2\n');
    // safety check without no-cache
    res = await build({ dir: d, buildArgs: { FOO: 'ghi' } });
    ok(res);
    expect(await res.read('out')).toBe('3\n');
  });

  // dockerfile_cache_test.go testWildcardRenameCache (alpine there; busybox here: only ls runs)
  port('testWildcardRenameCache', async () => {
    const d = await context({ Dockerfile: '\nFROM busybox\nCOPY file* /files/\nRUN ls /files/file1\n', file1: file('foo') });
    ok(await build({ dir: d, output: 'none' }));
    await rename(join(d, 'file1'), join(d, 'file2'));
    // cache should be invalidated and build should fail
    expect((await build({ dir: d, output: 'none' })).code).not.toBe(0);
  });

  // dockerfile_cache_test.go testReproducibleIDs: two builds of the same Dockerfile give the same image manifest.
  // BuildKit compares the containerd images' targets; here the two OCI archives' manifest digests.
  port('testReproducibleIDs', async () => {
    const d = await context({ Dockerfile: '\nFROM busybox\nENV foo=bar\nCOPY foo /\nRUN echo bar > bar\n', foo: file('foo-contents') });
    const digests: string[] = [];
    for (const name of ['dockerfileids', 'dockerfileids2']) {
      const res = await build({ dir: d, output: 'oci', args: ['-t', `example.com/moby/${name}:test`] });
      ok(res);
      const inspect = await run('skopeo', ['inspect', '--raw', `oci-archive:${res.archive}`]);
      expect(inspect.code, inspect.stderr).toBe(0);
      digests.push(inspect.stdout);
    }
    expect(digests[1]).toBe(digests[0]);
  });
});
