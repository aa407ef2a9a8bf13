import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { pathExists } from '../../base/fs.js';
import { runTbuild } from '../helpers/cli.js';
import { useBuildEnvironment, useRemoteBuilder } from '../helpers/build-env.js';
import { makeTestCgroup } from '../helpers/test-cgroup.js';

// RUN steps that show the limits they run under: forks beyond the parent's pids limit, the memory limit as the
// cgroup filesystem shows it (v2 or v1), and /dev/shm filled past a memory limit.
const FORKS = 'RUN mkdir -p /out; (for i in $(seq 1 10); do sleep 1 & done 2>/out/error); cat /proc/self/cgroup > /out/cgroup';
const MEMORY = 'RUN mkdir -p /out && (cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes) > /out/memory';
const FILL = 'RUN dd if=/dev/zero of=/dev/shm/fill bs=1M count=96 2>/dev/null && echo filled';

describe('--cgroup-parent and --resource', () => {
  const env = useBuildEnvironment();
  const remote = useRemoteBuilder(env);
  let outputs = 0;

  const context = async (name: string, runLine: string): Promise<string> => {
    const dir = join(env.tmp.path, name);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'Dockerfile'), `FROM busybox AS base\n${runLine}\nFROM scratch\nCOPY --from=base /out /\n`);
    return dir;
  };
  const build = async (ctx: string, flags: readonly string[]): Promise<{ code: number; stderr: string; read: (f: string) => Promise<string> }> => {
    const out = join(env.tmp.path, `out-${outputs++}`);
    const where = flags.includes('--builder') ? [] : ['--root', join(env.tmp.path, 'root'), '--config', env.config];
    const res = await runTbuild(['build', ...where, '--progress', 'plain', ...flags, '--output', `type=local,dest=${out}`, ctx]);
    return { code: res.code, stderr: res.stderr, read: (f) => readFile(join(out, f), 'utf8') };
  };

  let forks: string;
  let memory: string;
  beforeAll(async () => {
    forks = await context('forks', FORKS);
    memory = await context('memory', MEMORY);
  });

  describe.each([['sandbox', []], ['runc', ['--oci-runtime', 'runc']], ['crun', ['--oci-runtime', 'crun']]] as const)('through the %s executor', (_name, runtime) => {
    it('runs RUN in a cgroup under the parent, bound by its limits, and removes what it made there', async () => {
      await using cgroup = await makeTestCgroup(10);
      const b = await build(forks, [...runtime, '--no-cache', '--cgroup-parent', cgroup.name]);
      expect(b.code, b.stderr).toBe(0);
      expect(await b.read('error')).toContain('Resource temporarily unavailable');
      // tbuild's sandbox gives the step a cgroup namespace, hiding where its cgroup is; BuildKit asks runc for one on
      // cgroup v2 only, and so does tbuild: on v1 the step shows its cgroup, in a tbuild folder under the parent.
      if (_name === 'sandbox' || (await pathExists('/sys/fs/cgroup/cgroup.subtree_control'))) expect(await b.read('cgroup')).not.toContain(cgroup.name);
      else expect(await b.read('cgroup')).toMatch(new RegExp(`^\\d+:pids:/${cgroup.name.replace('.', '\\.')}/tbuild/[^/\\n]+$`, 'm'));
      expect(await cgroup.leftovers()).toEqual([]);
    });

    it('kills a RUN that goes past its memory limit, and lets it finish without one', async () => {
      const ctx = join(env.tmp.path, `fill-${_name}`);
      await mkdir(ctx, { recursive: true });
      await writeFile(join(ctx, 'Dockerfile'), `FROM busybox\n${FILL}\nRUN mkdir /out\n`);
      const free = await build(ctx, [...runtime, '--no-cache', '--shm-size', '256m']);
      expect(free.code, free.stderr).toBe(0);
      expect(free.stderr).toMatch(/^#\d+ [\d.]+ filled$/m);
      const limited = await build(ctx, [...runtime, '--no-cache', '--shm-size', '256m', '--memory', '32m']);
      expect(limited.code).toBe(1);
      expect(limited.stderr).toMatch(/did not complete successfully: (exit code: 137|killed by signal SIGKILL)/);
      expect(limited.stderr).not.toMatch(/^#\d+ [\d.]+ filled$/m);
    });
  });

  it('keeps limits out of the cache key, and the cgroup parent in it, as BuildKit does', async () => {
    const first = await build(memory, ['--resource', 'memory=64m']);
    expect(first.code, first.stderr).toBe(0);
    expect(await first.read('memory')).toBe(`${64 * 1024 * 1024}\n`);
    const again = await build(memory, ['--memory', '128m']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/RUN mkdir -p \/out[^\n]*\n#\d+ CACHED/);
    await using cgroup = await makeTestCgroup(100);
    const moved = await build(memory, ['--resource', 'memory=128m', '--cgroup-parent', cgroup.name]);
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.stderr).not.toMatch(/RUN mkdir -p \/out[^\n]*\n#\d+ CACHED/);
    expect(await moved.read('memory')).toBe(`${128 * 1024 * 1024}\n`);
  });

  it('carries the cgroup parent and limits to the RUN steps on a remote builder', async () => {
    await using cgroup = await makeTestCgroup(10);
    const f = await build(forks, ['--builder', remote.address, '--cgroup-parent', cgroup.name]);
    expect(f.code, f.stderr).toBe(0);
    expect(await f.read('error')).toContain('Resource temporarily unavailable');
    const m = await build(memory, ['--builder', remote.address, '--resource', 'memory=96m', '--cpu-shares', '512', '--cpuset-cpus', '0']);
    expect(m.code, m.stderr).toBe(0);
    expect(await m.read('memory')).toBe(`${96 * 1024 * 1024}\n`);
    expect(await cgroup.leftovers()).toEqual([]);
  });

  it('refuses bad limits and systemd cgroup parents before building, naming them', async () => {
    const cases: [string[], RegExp][] = [
      [['--resource', 'memory=lots'], /Cannot use --resource memory=lots: expected a size such as 512m or 2g/],
      [['--resource', 'disk=1g'], /unknown resource "disk"/],
      [['--memory-swap', '1g'], /memory-swap without memory/],
      [['--memory', '1g', '--memory-swap', '512m'], /may not be below memory/],
      [['--cpu-period', '10'], /cpu-period=10: expected a whole number from 1000 to 1000000/],
      [['--cpuset-cpus', '3-1'], /cpuset-cpus=3-1: expected a list such as 0-3 or 0,1/],
      [['--cgroup-parent', 'system.slice:'], /not through systemd/],
    ];
    for (const [flags, message] of cases) {
      const res = await build(memory, flags);
      expect(res.code, flags.join(' ')).toBe(2);
      expect(res.stderr).toMatch(message);
    }
  });
});
