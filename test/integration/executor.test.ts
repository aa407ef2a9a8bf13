import { execFile } from 'node:child_process';
import { access, copyFile, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamespaceExecutor, createRuncExecutor, type ExecRequest, type Executor } from '../../executor/index.js';
import { childPids } from '../helpers/child-pids.js';

const run = promisify(execFile);
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const APPLETS = ['sh', 'echo', 'cat', 'ls', 'id', 'hostname', 'true', 'false', 'sleep', 'mount', 'grep', 'touch'];

interface Fixture {
  readonly base: string;
  readonly lower: string;
  nextRootfs(): Promise<{ lowerdirs: string[]; upperdir: string; workdir: string }>;
}

async function makeFixture(): Promise<Fixture> {
  const base = await mkdtemp(path.join(tmpdir(), 'tbuild-exec-'));
  const lower = path.join(base, 'lower');
  await mkdir(path.join(lower, 'bin'), { recursive: true });
  await mkdir(path.join(lower, 'etc'));
  // As in a real image: a base without them gets them in the RUN's layer (see run-mount-points.test.ts).
  for (const dir of ['dev', 'proc', 'sys']) await mkdir(path.join(lower, dir));
  await copyFile('/bin/busybox', path.join(lower, 'bin/busybox'));
  for (const a of APPLETS) await symlink('busybox', path.join(lower, 'bin', a));
  await writeFile(path.join(lower, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n');
  await writeFile(path.join(lower, 'etc/group'), 'root:x:0:\napp:x:1000:\nextra:x:2000:app\n');
  let n = 0;
  return {
    base,
    lower,
    async nextRootfs() {
      const dir = path.join(base, `rootfs-${n++}`);
      await mkdir(path.join(dir, 'upper'), { recursive: true });
      await mkdir(path.join(dir, 'work'));
      return { lowerdirs: [lower], upperdir: path.join(dir, 'upper'), workdir: path.join(dir, 'work') };
    },
  };
}

async function exec(
  executor: Executor,
  fx: Fixture,
  args: string[],
  extra: Partial<ExecRequest> & { user?: string } = {},
): Promise<{ out: string; err: string; exitCode: number | null; signal: string | null; upperdir: string }> {
  const rootfs = extra.rootfs ?? (await fx.nextRootfs());
  let out = '';
  let err = '';
  const result = await executor.run(
    {
      rootfs,
      process: { args, env: ['PATH=/bin'], cwd: '/', user: extra.user ?? '' },
      network: extra.network ?? 'none',
      mounts: extra.mounts ?? [],
      ...(extra.hostname === undefined ? {} : { hostname: extra.hostname }),
      onOutput: (stream, data) => {
        if (stream === 'stdout') out += data.toString();
        else err += data.toString();
      },
    },
    { signal: AbortSignal.timeout(60_000) },
  );
  return { out, err, exitCode: result.exitCode, signal: result.signal, upperdir: rootfs.upperdir };
}

async function listTree(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const rel = path.posix.join(prefix, e.name);
    out.push(rel);
    if (e.isDirectory()) out.push(...(await listTree(path.join(dir, e.name), rel)));
  }
  return out.sort();
}

async function mountsUnder(dir: string): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  return info.split('\n').filter((l) => l.includes(dir));
}

let fx: Fixture;

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('executor integration tests need root (namespaces, overlayfs)');
  await access('/bin/busybox').catch(() => {
    throw new Error('executor integration tests need /bin/busybox (Debian package busybox-static)');
  });
  await access(path.join(REPO, 'native/build/tbuild-sandbox')).catch(() => run('make', ['-C', path.join(REPO, 'native')]));
  fx = await makeFixture();
});

afterAll(async () => {
  if (fx !== undefined) await rm(fx.base, { recursive: true, force: true });
});

function describeExecutor(name: string, make: (stateDir: string) => Executor): void {
  describe(name, () => {
    let executor: Executor;
    beforeAll(() => {
      executor = make(path.join(fx.base, `state-${name}`));
    });

    it('captures output and reports the exit code', async () => {
      const r = await exec(executor, fx, ['sh', '-c', 'echo out; echo err >&2; exit 3']);
      expect(r).toMatchObject({ out: 'out\n', err: 'err\n', exitCode: 3, signal: null });
    });

    it('gives the process pipes for stdio that it can reopen, also as USER app, and stdin at EOF', async () => {
      const script = [
        'for fd in 0 1 2; do [ -p /proc/self/fd/$fd ] && echo pipe$fd; done',
        'read line; echo "read=$?"',
        'echo to-stderr > /dev/stderr',
        'echo to-stdout > /dev/stdout',
        'cat /dev/stdin',
      ].join('; ');
      for (const user of ['', 'app']) {
        const r = await exec(executor, fx, ['sh', '-c', script], { user });
        expect(r, `user "${user}"`).toMatchObject({ out: 'pipe0\npipe1\npipe2\nread=1\nto-stdout\n', err: 'to-stderr\n', exitCode: 0 });
      }
    });

    it('runs USER app as uid 1000 with its primary and supplementary groups', async () => {
      const r = await exec(executor, fx, ['id'], { user: 'app' });
      expect(r.out.trim()).toBe('uid=1000(app) gid=1000(app) groups=1000(app),2000(extra)');
    });

    it('uses the container hostname and leaves /etc/hostname to the image, writable as in BuildKit', async () => {
      const r = await exec(executor, fx, ['sh', '-c', 'hostname; echo written > /etc/hostname && cat /etc/hostname'], { hostname: 'box' });
      expect(r.out).toBe('box\nwritten\n');
    });

    it('has Docker default capabilities, masked and read-only /proc paths', async () => {
      const script = 'grep CapEff /proc/self/status; cat /proc/kcore | wc -c; echo 1 > /proc/sys/kernel/hostname && echo wrote';
      const r = await exec(executor, fx, ['sh', '-c', script]);
      expect(r.out).toContain('CapEff:\t00000000a80425fb');
      expect(r.out).not.toContain('wrote');
      expect(r.err).toMatch(/Read-only file system/);
    });

    it('writes only the process changes into the upperdir', async () => {
      const r = await exec(executor, fx, ['sh', '-c', 'echo hi > /created && cat /etc/resolv.conf >/dev/null'], {
        network: 'default',
      });
      expect(r.exitCode).toBe(0);
      expect(await listTree(r.upperdir)).toEqual(['created']);
      expect(await readFile(path.join(r.upperdir, 'created'), 'utf8')).toBe('hi\n');
    });

    it('isolates the network with only loopback for network none', async () => {
      const r = await exec(executor, fx, ['sh', '-c', "cat /proc/net/dev | grep ':' | cut -d: -f1"]);
      expect(r.out.split('\n').map((s) => s.trim()).filter((s) => s !== '')).toEqual(['lo']);
    });

    it('kills the container within a second on abort', async () => {
      const controller = new AbortController();
      const started = performance.now();
      const pending = executor.run(
        {
          rootfs: await fx.nextRootfs(),
          process: { args: ['sleep', '100'], env: [], cwd: '/', user: '' },
          network: 'none',
          mounts: [],
        },
        { signal: controller.signal },
      );
      setTimeout(() => controller.abort(new Error('stop')), 300);
      await expect(pending).rejects.toThrow('stop');
      expect(performance.now() - started).toBeLessThan(1300);
      expect(await childPids()).toEqual([]);
    });
  });
}

describeExecutor('namespace executor', (stateDir) => createNamespaceExecutor({ stateDir }));
describeExecutor('namespace executor without a process sandbox', (stateDir) => createNamespaceExecutor({ stateDir, processSandbox: false }));
describeExecutor('runc executor', (stateDir) => createRuncExecutor({ stateDir, runtime: 'runc' }));
describeExecutor('crun executor', (stateDir) => createRuncExecutor({ stateDir, runtime: 'crun' }));

describe('crun executor only', () => {
  it('leaves no mounts, processes or containers after 20 runs, and the host cgroup mounts as they were', async () => {
    const cgroupMounts = async (): Promise<string[]> =>
      (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').filter((l) => l.includes(' /sys/fs/cgroup'));
    const before = await cgroupMounts();
    const stateDir = path.join(fx.base, 'state-crun-many');
    const executor = createRuncExecutor({ stateDir, runtime: 'crun' });
    for (let i = 0; i < 20; i++) {
      const r = await exec(executor, fx, ['true']);
      expect(r.exitCode).toBe(0);
    }
    expect(await mountsUnder(fx.base)).toEqual([]);
    expect(await childPids()).toEqual([]);
    expect(await cgroupMounts()).toEqual(before);
    const containers = await readdir(path.join(stateDir, 'crun-state')).catch(() => []);
    expect(containers.filter((name) => name.startsWith('tbuild-'))).toEqual([]);
  });
});

describe('namespace executor only', () => {
  it('runs the process under an init that is PID 1', async () => {
    const executor = createNamespaceExecutor({ stateDir: path.join(fx.base, 'state-pid') });
    const r = await exec(executor, fx, ['sh', '-c', 'echo $$; cat /proc/1/cmdline | tr "\\0" " "']);
    const [pid, cmdline] = r.out.split('\n');
    expect(pid).not.toBe('1');
    expect(cmdline).toContain('tbuild-sandbox');
  });

  it('reports an unknown user and a missing executable as start errors', async () => {
    const executor = createNamespaceExecutor({ stateDir: path.join(fx.base, 'state-err') });
    await expect(exec(executor, fx, ['id'], { user: 'nobody' })).rejects.toThrow(
      'unable to find user nobody: no matching entries in passwd file',
    );
    await expect(exec(executor, fx, ['no-such-binary'])).rejects.toThrow('executable file not found in $PATH');
  });

  it("without a process sandbox, runs in this PID namespace with its /proc, and kills what the process leaves", async () => {
    const executor = createNamespaceExecutor({ stateDir: path.join(fx.base, 'state-shared-pid'), processSandbox: false });
    // A background sleep, and one in a session of its own whose parent exits: both outlive the shell.
    const script = `echo $$; sleep 1000 & echo $!; sh -c 'setsid sleep 1001 & echo $!'; cat /proc/${process.pid}/status | grep ^Tgid`;
    const r = await exec(executor, fx, ['sh', '-c', script]);
    const [shell, sleeper, detached] = r.out.split('\n').map(Number);
    expect(r.exitCode).toBe(0);
    // Its pids are this namespace's, and this test process is visible in its /proc.
    expect(shell).toBeGreaterThan(1);
    expect(r.out).toContain(`Tgid:\t${process.pid}`);
    for (const pid of [shell, sleeper, detached]) await expect(access(`/proc/${pid}`), `process ${pid}`).rejects.toThrow('ENOENT');
    expect(await childPids()).toEqual([]);
  });

  it('without a process sandbox, kills the process and what it started on abort', async () => {
    const executor = createNamespaceExecutor({ stateDir: path.join(fx.base, 'state-shared-abort'), processSandbox: false });
    const controller = new AbortController();
    let out = '';
    const pending = executor.run(
      {
        rootfs: await fx.nextRootfs(),
        process: { args: ['sh', '-c', 'sleep 1002 & echo $!; echo $$; sleep 1003'], env: ['PATH=/bin'], cwd: '/', user: '' },
        network: 'none',
        mounts: [],
        onOutput: (_stream, data) => {
          out += data.toString();
          if (out.split('\n').length > 2) controller.abort(new Error('stop'));
        },
      },
      { signal: controller.signal },
    );
    await expect(pending).rejects.toThrow('stop');
    const pids = out.trim().split('\n').map(Number);
    expect(pids).toHaveLength(2);
    for (const pid of pids) await expect(access(`/proc/${pid}`), `process ${pid}`).rejects.toThrow('ENOENT');
    expect(await childPids()).toEqual([]);
  });

  it('leaves no mounts or processes after 50 runs', async () => {
    const executor = createNamespaceExecutor({ stateDir: path.join(fx.base, 'state-many') });
    for (let i = 0; i < 50; i++) {
      const r = await exec(executor, fx, ['true']);
      expect(r.exitCode).toBe(0);
    }
    expect(await mountsUnder(fx.base)).toEqual([]);
    expect(await childPids()).toEqual([]);
    expect(await readdir(path.join(fx.base, 'state-many'))).toEqual([]);
  });
});
