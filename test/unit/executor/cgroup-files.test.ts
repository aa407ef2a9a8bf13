import { describe, expect, it } from 'vitest';
import { cpuSharesToWeight, v1Files, v2Files } from '../../../executor/cgroup.js';
import { cgroupParentPath, underCgroupParent } from '../../../executor/cgroup-layout.js';
import { buildRuntimeSpec, cpuWeightToShares } from '../../../executor/spec.js';

const MIB = 1024 ** 2;

describe('cgroup files of an exec', () => {
  it('writes cgroup v2 limits: swap apart from memory, cpu.max, weights from shares as runc maps them', () => {
    expect(v2Files({})).toEqual([]);
    expect(v2Files({ memoryBytes: 64 * MIB })).toEqual([['memory.max', String(64 * MIB)], ['memory.swap.max', '0']]);
    expect(v2Files({ memoryBytes: 64 * MIB, memorySwapBytes: 96 * MIB })).toContainEqual(['memory.swap.max', String(32 * MIB)]);
    expect(v2Files({ memoryBytes: 64 * MIB, memorySwapBytes: -1 })).toContainEqual(['memory.swap.max', 'max']);
    expect(v2Files({ cpuShares: 1024, cpuQuotaUs: 50000, cpusetCpus: '0-1', cpusetMems: '0', pidsMax: 5 })).toEqual([
      ['pids.max', '5'],
      ['cpu.weight', '39'],
      ['cpu.max', '50000 100000'],
      ['cpuset.cpus', '0-1'],
      ['cpuset.mems', '0'],
    ]);
    expect(v2Files({ cpuPeriodUs: 20000 })).toEqual([['cpu.max', 'max 20000']]);
    expect([cpuSharesToWeight(2), cpuSharesToWeight(262144)]).toEqual([1, 10000]);
  });

  it('writes cgroup v1 limits by controller, memory+swap after memory', () => {
    expect(v1Files({ memoryBytes: 64 * MIB })).toEqual([
      ['memory', 'memory.limit_in_bytes', String(64 * MIB)],
      ['memory', 'memory.memsw.limit_in_bytes', String(64 * MIB)],
    ]);
    expect(v1Files({ memoryBytes: 64 * MIB, memorySwapBytes: -1 })).toContainEqual(['memory', 'memory.memsw.limit_in_bytes', '-1']);
    expect(v1Files({ cpuShares: 512, cpuPeriodUs: 20000, cpuQuotaUs: 10000, cpusetCpus: '0', cpusetMems: '0' })).toEqual([
      ['cpu', 'cpu.shares', '512'],
      ['cpu', 'cpu.cfs_period_us', '20000'],
      ['cpu', 'cpu.cfs_quota_us', '10000'],
      ['cpuset', 'cpuset.cpus', '0'],
      ['cpuset', 'cpuset.mems', '0'],
    ]);
    expect(v1Files({ cpuWeight: 100 })).toEqual([['cpu', 'cpu.shares', String(cpuWeightToShares(100))]]);
  });

  it('places execs under a cgroup parent as BuildKit joins it: from each hierarchy root, in a tbuild folder', () => {
    expect(cgroupParentPath('a/b')).toBe('a/b');
    expect(cgroupParentPath('/a/../../b/')).toBe('b');
    expect(underCgroupParent({ version: 2, parent: '/sys/fs/cgroup/tbuild', root: '/sys/fs/cgroup' }, '/ci')).toEqual({
      version: 2,
      parent: '/sys/fs/cgroup/ci/tbuild',
      root: '/sys/fs/cgroup',
    });
    const v1 = underCgroupParent(
      { version: 1, parents: new Map([['pids', '/c/pids/me/tbuild']]), roots: new Map([['pids', '/c/pids'], ['memory', '/c/memory']]) },
      'ci',
    );
    expect(v1.version === 1 && [...v1.parents]).toEqual([['pids', '/c/pids/ci/tbuild'], ['memory', '/c/memory/ci/tbuild']]);
  });
});

describe('runtime spec limits (runc)', () => {
  const base = {
    args: ['true'],
    env: [],
    cwd: '/',
    user: { uid: 0, gid: 0, additionalGids: [] },
    hostname: 'h',
    network: 'none',
    root: { kind: 'prepared' },
    mounts: [],
  } as const;

  it('writes every limit to linux.resources, and a cgroup namespace when asked', () => {
    const spec = buildRuntimeSpec({
      ...base,
      cgroupNamespace: true,
      cgroup: { path: '/ci/tbuild/x', resources: { memoryBytes: 64 * MIB, cpuShares: 512, cpuQuotaUs: 50000, cpuPeriodUs: 100000, cpusetCpus: '0', cpusetMems: '0' } },
    });
    expect(spec.linux.cgroupsPath).toBe('/ci/tbuild/x');
    expect(spec.linux.resources).toMatchObject({
      memory: { limit: 64 * MIB, swap: 64 * MIB },
      cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0', mems: '0' },
    });
    expect(spec.linux.namespaces).toContainEqual({ type: 'cgroup' });
    expect(buildRuntimeSpec({ ...base, cgroup: { path: 'x', resources: { memoryBytes: 1, memorySwapBytes: -1 } } }).linux.resources.memory).toEqual({ limit: 1, swap: -1 });
    expect(buildRuntimeSpec(base).linux.namespaces).not.toContainEqual({ type: 'cgroup' });
  });
});
