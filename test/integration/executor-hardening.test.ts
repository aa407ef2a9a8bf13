import { execFile } from 'node:child_process';
import { access, copyFile, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamespaceExecutor, createRuncExecutor, type ExecRequest, type ExecResult, type Executor } from '../../executor/index.js';
import { detectCgroupLayout } from '../../executor/cgroup-layout.js';
import { cgroupParents, listCgroupChildren } from '../../executor/cgroup.js';
import { childPids } from '../helpers/child-pids.js';

const run = promisify(execFile);
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const APPLETS = ['sh', 'cat', 'grep', 'true', 'mknod'];

let base: string;
let lower: string;
let n = 0;

async function nextRootfs(lowerdirs?: string[]): Promise<ExecRequest['rootfs']> {
  const dir = path.join(base, `rootfs-${n++}`);
  await mkdir(path.join(dir, 'upper'), { recursive: true });
  await mkdir(path.join(dir, 'work'));
  return { lowerdirs: lowerdirs ?? [lower], upperdir: path.join(dir, 'upper'), workdir: path.join(dir, 'work') };
}

async function exec(
  executor: Executor,
  args: string[],
  extra: Partial<ExecRequest> = {},
): Promise<ExecResult & { out: string }> {
  let out = '';
  const result = await executor.run(
    {
      rootfs: extra.rootfs ?? (await nextRootfs()),
      process: { args, env: ['PATH=/bin'], cwd: '/', user: '' },
      network: 'none',
      mounts: [],
      ...extra,
      onOutput: (_stream, data) => {
        out += data.toString();
      },
    },
    { signal: AbortSignal.timeout(60_000) },
  );
  return { ...result, out };
}

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('executor hardening tests need root (namespaces, overlayfs, cgroups)');
  await access('/bin/busybox').catch(() => {
    throw new Error('executor hardening tests need /bin/busybox (Debian package busybox-static)');
  });
  await access(path.join(REPO, 'native/build/tbuild-sandbox')).catch(() => run('make', ['-C', path.join(REPO, 'native')]));
  base = await mkdtemp(path.join(tmpdir(), 'tbuild-harden-'));
  lower = path.join(base, 'lower');
  await mkdir(path.join(lower, 'bin'), { recursive: true });
  await mkdir(path.join(lower, 'etc'));
  await copyFile('/bin/busybox', path.join(lower, 'bin/busybox'));
  for (const a of APPLETS) await symlink('busybox', path.join(lower, 'bin', a));
  await writeFile(path.join(lower, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  await writeFile(path.join(lower, 'etc/group'), 'root:x:0:\n');
  // The probe makes the syscalls directly, so the answer is seccomp's and not a shell applet's.
  await run('cc', ['-static', '-O2', '-o', path.join(lower, 'bin/probe'), path.join(REPO, 'test/fixtures/sandbox-probe.c')]).catch(
    (err: unknown) => {
      throw new Error('executor hardening tests need a C compiler with static glibc (cc -static)', { cause: err });
    },
  );
});

afterAll(async () => {
  if (base !== undefined) await rm(base, { recursive: true, force: true });
});

const BLOCKED = 'unshare EPERM\nmount EPERM\nkeyctl EPERM\nadd_key EPERM\ngetpid ok\n';

// crun runs with its cgroup manager disabled, in a cgroup tbuild makes with the spec's device rules.
describe.each([
  ['namespace', (dir: string): Executor => createNamespaceExecutor({ stateDir: dir })],
  ['runc', (dir: string): Executor => createRuncExecutor({ stateDir: dir, runtime: 'runc' })],
  ['crun', (dir: string): Executor => createRuncExecutor({ stateDir: dir, runtime: 'crun' })],
])('devices through the %s executor', (name, make) => {
  let executor: Executor;
  beforeAll(() => {
    executor = make(path.join(base, `state-devices-${name}`));
  });
  const script = 'mknod /null c 1 3 && mknod /loop b 7 0 && cat /null && echo created; cat /loop 2>&1 && echo loop-opened';

  it("lets RUN create device nodes but open only BuildKit's allowed ones, not a block device", async () => {
    const r = await exec(executor, ['sh', '-c', script]);
    expect(r.out).toBe("created\ncat: can't open '/loop': Operation not permitted\n");
  });

  it('lets --security=insecure open them all', async () => {
    const r = await exec(executor, ['sh', '-c', script], { security: 'insecure' });
    expect(r.out).toBe('created\nloop-opened\n');
  });
});

describe.each([
  ['namespace', (dir: string): Executor => createNamespaceExecutor({ stateDir: dir })],
  ['runc', (dir: string): Executor => createRuncExecutor({ stateDir: dir, runtime: 'runc' })],
  ['crun', (dir: string): Executor => createRuncExecutor({ stateDir: dir, runtime: 'crun' })],
])('seccomp through the %s executor', (name, make) => {
  let executor: Executor;
  beforeAll(() => {
    executor = make(path.join(base, `state-${name}`));
  });

  it('runs RUN under a seccomp filter', async () => {
    const r = await exec(executor, ['grep', '^Seccomp:', '/proc/self/status']);
    expect(r.out).toMatch(/^Seccomp:\s+2$/m);
  });

  it('refuses unshare, mount, keyctl and add_key with EPERM', async () => {
    const r = await exec(executor, ['probe', 'syscalls']);
    expect(r.out).toBe(BLOCKED);
  });

  it('runs --security=insecure privileged, without seccomp', async () => {
    const r = await exec(executor, ['sh', '-c', 'grep -E "^(Seccomp|CapEff):" /proc/self/status; probe syscalls'], { security: 'insecure' });
    expect(r.out).toMatch(/^Seccomp:\s+0$/m);
    const hostBounding = /^CapBnd:\s+(\S+)$/m.exec(await readFile('/proc/self/status', 'utf8'))?.[1];
    expect(r.out).toContain(`CapEff:\t${hostBounding}`);
    expect(r.out).toMatch(/^unshare ok$/m);
  });

  it('mounts a rootfs of 200 layers', async () => {
    const layers: string[] = [];
    const store = path.join(base, `many-layers-with-a-long-directory-name-${name}`);
    for (let i = 0; i < 199; i++) {
      const dir = path.join(store, `layer-${String(i).padStart(3, '0')}`);
      await mkdir(dir, { recursive: true });
      layers.push(dir);
    }
    // The bottom layer is the busybox tree, reached through the same store directory like a real snapshot.
    await symlink(lower, path.join(store, 'layer-199'));
    layers.push(path.join(store, 'layer-199'));
    expect(layers.join(':').length).toBeGreaterThan(4096);
    const r = await exec(executor, ['cat', '/etc/group'], { rootfs: await nextRootfs(layers) });
    expect(r).toMatchObject({ exitCode: 0, out: 'root:x:0:\n' });
  });
});

// BuildKit's withCGroup: RUN sees its own cgroups read-only at /sys/fs/cgroup, so runtimes sizing themselves from
// the memory limit (JVM, .NET) find it. crun is left out for the reason above: on this kind of host it runs outside
// any cgroup of tbuild's.
describe.each([
  ['namespace', (dir: string): Executor => createNamespaceExecutor({ stateDir: dir })],
  ['runc', (dir: string): Executor => createRuncExecutor({ stateDir: dir, runtime: 'runc' })],
])('cgroup filesystem through the %s executor', (name, make) => {
  const script = [
    'd=/sys/fs/cgroup/memory; [ -d $d ] || d=/sys/fs/cgroup',
    'cat $d/memory.limit_in_bytes 2>/dev/null || cat $d/memory.max',
    '(: > $d/x) 2>&1 | grep -o Read-only',
  ].join('; ');

  it('shows the RUN its own memory limit, read-only', async () => {
    const executor = make(path.join(base, `state-cgroupfs-${name}`));
    const r = await exec(executor, ['sh', '-c', script], { resources: { memoryBytes: 64 * 1024 * 1024 } });
    expect(r).toMatchObject({ exitCode: 0, out: `${64 * 1024 * 1024}\nRead-only\n` });
  });
});

describe('cgroups of the namespace executor', () => {
  let executor: Executor;
  beforeAll(() => {
    executor = createNamespaceExecutor({ stateDir: path.join(base, 'state-cgroup') });
  });

  it('kills a process exceeding the memory limit', async () => {
    const r = await exec(executor, ['probe', 'hog', '256'], { resources: { memoryBytes: 64 * 1024 * 1024 } });
    expect(r.signal).toBe('SIGKILL');
    expect(r.out).not.toContain('survived');
  });

  it('refuses forks beyond the pids limit', async () => {
    const r = await exec(executor, ['probe', 'fork', '50'], { resources: { pidsMax: 10 } });
    expect(r.out).toMatch(/^fork failed after \d+: EAGAIN$/m);
  });

  it('reports memory and cpu usage', async () => {
    const r = await exec(executor, ['probe', 'hog', '16'], { resources: { cpuWeight: 50 } });
    expect(r.out).toBe('survived\n');
    expect(r.usage?.memoryPeakBytes).toBeGreaterThan(16 * 1024 * 1024);
    expect(r.usage?.cpuTimeMs).toBeGreaterThan(0);
  });

  it('leaves no mount, process, cgroup or bundle behind after 200 runs', async () => {
    const stateDir = path.join(base, 'state-leaks');
    const leaky = createNamespaceExecutor({ stateDir });
    for (let i = 0; i < 200; i++) {
      const r = await exec(leaky, ['true']);
      expect(r.exitCode).toBe(0);
    }
    const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
    expect(mountinfo.split('\n').filter((l) => l.includes(base))).toEqual([]);
    expect(await childPids()).toEqual([]);
    const layout = await detectCgroupLayout();
    for (const parent of cgroupParents(layout)) {
      const ours = (await listCgroupChildren(parent)).filter((c) => c.startsWith(`${process.pid}-`));
      expect(ours).toEqual([]);
    }
    expect(await readdir(stateDir)).toEqual([]);
  }, 120_000);

  it('sweeps bundles left by a dead process', async () => {
    const stateDir = path.join(base, 'state-sweep');
    // pid_max is at most 4194304, so this pid cannot be alive.
    const stale = path.join(stateDir, 'exec-4194305-abc');
    await mkdir(path.join(stale, 'rootfs'), { recursive: true });
    await writeFile(path.join(stale, 'config.json'), '{}');
    await exec(createNamespaceExecutor({ stateDir }), ['true']);
    expect(await readdir(stateDir)).toEqual([]);
  });
});
