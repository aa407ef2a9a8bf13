// Ported from moby/buildkit frontend/dockerfile/dockerfile_resources_test.go: each case names its test function.
// BuildKit's shm-size and ulimit frontend attributes are tbuild's --shm-size and --ulimit.
import { describe, expect } from 'vitest';
import { buildkitSuite, ok } from './harness.js';

describe('BuildKit dockerfile_resources_test.go', () => {
  const { build, port } = buildkitSuite('dockerfile_resources_test.go');

  // dockerfile_resources_test.go testShmSize
  port('testShmSize', async () => {
    const res = await build({
      files: { Dockerfile: '\nFROM busybox AS base\nRUN mount | grep /dev/shm > /shmsize\nFROM scratch\nCOPY --from=base /shmsize /\n' },
      args: ['--shm-size', '134217728'],
    });
    ok(res);
    expect(await res.read('shmsize')).toContain('size=131072k');
  });

  // dockerfile_resources_test.go testUlimit
  port('testUlimit', async () => {
    const res = await build({
      files: { Dockerfile: '\nFROM busybox AS base\nRUN ulimit -n > /ulimit\nFROM scratch\nCOPY --from=base /ulimit /\n' },
      args: ['--ulimit', 'nofile=1062:1062'],
    });
    ok(res);
    expect((await res.read('ulimit')).trim()).toBe('1062');
  });
});
