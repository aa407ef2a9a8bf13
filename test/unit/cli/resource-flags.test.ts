import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../base/errors.js';
import { parseBuildCommand } from '../../../cli/build-command.js';
import { isCpuList, parseCgroupParent, parseRamBytes, parseResources } from '../../../cli/resource-flags.js';

const PLACE = { cwd: '/work', env: {} };

describe('--resource and buildx per-resource flags', () => {
  it('reads sizes as docker RAMInBytes does: powers of 1024, optional i and b', () => {
    expect(parseRamBytes('1024')).toBe(1024);
    expect(parseRamBytes('512m')).toBe(512 * 1024 ** 2);
    expect(parseRamBytes('2G')).toBe(2 * 1024 ** 3);
    expect(parseRamBytes('1.5gib')).toBe(1.5 * 1024 ** 3);
    expect(parseRamBytes('64 MB')).toBe(64 * 1024 ** 2);
    expect(parseRamBytes('lots')).toBeUndefined();
    expect(parseRamBytes('-1')).toBeUndefined();
  });

  it('reads CPU lists as cgroups take them', () => {
    for (const ok of ['0', '0-3', '0,2,4-7']) expect(isCpuList(ok), ok).toBe(true);
    for (const bad of ['', '3-1', '0,', 'a', '0-']) expect(isCpuList(bad), bad).toBe(false);
  });

  it('reads every key into the limits, the last of a key winning', () => {
    expect(parseResources([])).toBeUndefined();
    expect(
      parseResources(['memory=1g', 'memory=2g', 'memory-swap=3g', 'cpu-shares=512', 'cpu-period=100000', 'cpu-quota=50000', 'cpuset-cpus=0-1', 'cpuset-mems=0']),
    ).toEqual({
      memoryBytes: 2 * 1024 ** 3,
      memorySwapBytes: 3 * 1024 ** 3,
      cpuShares: 512,
      cpuPeriodUs: 100000,
      cpuQuotaUs: 50000,
      cpusetCpus: '0-1',
      cpusetMems: '0',
    });
    expect(parseResources(['memory-swap=-1'])).toEqual({ memorySwapBytes: -1 });
  });

  it('refuses what BuildKit or the kernel would refuse, naming the entry', () => {
    const cases: [string[], RegExp][] = [
      [['memory'], /"memory": expected KEY=VALUE/],
      [['disk=1'], /unknown resource "disk"/],
      [['memory=0'], /memory=0: the limit must be more than 0/],
      [['memory-swap=0'], /memory-swap=0: expected -1/],
      [['memory-swap=1g'], /memory-swap without memory/],
      [['memory=2g', 'memory-swap=1g'], /may not be below memory/],
      [['cpu-shares=1'], /cpu-shares=1: expected a whole number from 2 to 262144/],
      [['cpu-period=999'], /from 1000 to 1000000/],
      [['cpu-quota=-5'], /cpu-quota=-5: expected a whole number of at least 1000/],
      [['cpuset-mems=x'], /cpuset-mems=x: expected a list/],
    ];
    for (const [entries, message] of cases) {
      expect(() => parseResources(entries), entries.join(' ')).toThrow(UsageError);
      expect(() => parseResources(entries), entries.join(' ')).toThrow(message);
    }
  });

  it('takes buildx flags and --resource on the build command line, --resource winning', () => {
    const cmd = parseBuildCommand(['-m', '1g', '--memory-swap', '-1', '-c', '100', '--cpu-period', '20000', '--cpu-quota', '10000', '--cpuset-cpus', '1', '--cpuset-mems', '0', '--resource', 'memory=2g', '.'], PLACE);
    expect(cmd.request.resources).toEqual({
      memoryBytes: 2 * 1024 ** 3,
      memorySwapBytes: -1,
      cpuShares: 100,
      cpuPeriodUs: 20000,
      cpuQuotaUs: 10000,
      cpusetCpus: '1',
      cpusetMems: '0',
    });
    expect(parseBuildCommand(['.'], PLACE).request).not.toHaveProperty('resources');
    expect(parseBuildCommand(['--cgroup-parent', 'ci/builds', '.'], PLACE).request.cgroupParent).toBe('ci/builds');
  });
});

describe('--cgroup-parent', () => {
  it('takes a cgroup path and refuses an empty one and systemd slices', () => {
    expect(parseCgroupParent('/a/b')).toBe('/a/b');
    expect(() => parseCgroupParent(' ')).toThrow(/expected a cgroup path/);
    expect(() => parseCgroupParent('user.slice:')).toThrow(/not through systemd/);
  });
});
