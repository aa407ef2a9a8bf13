// Ported from moby/buildkit frontend/dockerfile/dockerfile_resources_test.go: each case names its test function.
// BuildKit's shm-size, ulimit, cgroup-parent and memory frontend attributes are tbuild's --shm-size, --ulimit,
// --cgroup-parent and --resource memory= (buildx's names for them).
import { describe, expect } from 'vitest';
import { makeTestCgroup } from '../../helpers/test-cgroup.js';
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

  // dockerfile_resources_test.go testCgroupParent, from busybox rather than alpine (offline). BuildKit skips it without
  // cgroup v2; on a cgroup v1 host the test's cgroup (pids.max 10) is made in the pids hierarchy, where it acts alike.
  port('testCgroupParent', async () => {
    await using cgroup = await makeTestCgroup(10);
    const res = await build({
      files: {
        Dockerfile:
          '\nFROM busybox AS base\nRUN mkdir /out; (for i in $(seq 1 10); do sleep 1 & done 2>/out/error); cat /proc/self/cgroup > /out/cgroup\nFROM scratch\nCOPY --from=base /out /\n',
      },
      args: ['--cgroup-parent', cgroup.name],
    });
    ok(res);
    // cgroupns does not leak the parent cgroup name
    expect((await res.read('cgroup')).trim()).not.toContain('foocgroup');
    expect(await res.read('cgroup')).not.toContain(cgroup.name);
    expect((await res.read('error')).trim()).toContain('Resource temporarily unavailable');
    // The RUN's cgroup, and the folder it was made in, went with it.
    expect(await cgroup.leftovers()).toEqual([]);
  });

  // dockerfile_resources_test.go testLinuxResources, from busybox rather than alpine (offline). BuildKit reads cgroup
  // v2's memory.max (and skips the test on cgroup v1); on a cgroup v1 host the same limit is memory.limit_in_bytes.
  port('testLinuxResources', async () => {
    const res = await build({
      files: {
        Dockerfile:
          '\nFROM busybox AS base\nRUN mkdir /out && (cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes) > /out/memory\nFROM scratch\nCOPY --from=base /out /\n',
      },
      args: ['--resource', 'memory=67108864'],
    });
    ok(res);
    expect((await res.read('memory')).trim()).toBe('67108864');
  });
});
