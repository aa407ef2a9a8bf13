import { copyFile, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createNamespaceExecutor,
  createNetworkPool,
  createRuncExecutor,
  type ExecRequest,
  type Executor,
  type NetworkMode,
  type NetworkPool,
  type NetworkProvider,
  type SecurityMode,
} from '../../executor/index.js';
import { sandboxResolvConf } from '../../executor/resolv-conf.js';
import { createSandboxNetwork } from '../../executor/sandbox-network.js';
import { PEER_NAME_ADDRESS, startPeerNetwork, type PeerNetwork } from '../helpers/peer-network.js';
import { childPids } from '../helpers/child-pids.js';

// A RUN's default network: a namespace of its own with outbound access through slirp4netns, the host's loopback out
// of reach. Outbound access is proven against a server in a namespace the test made (never the internet).

const run = promisify(execFile);
const APPLETS = ['sh', 'cat', 'nc', 'ip', 'grep', 'echo', 'true', 'nslookup'];
const HOST_REPLY = 'host-loopback';

let base: string;
let lower: string;
let runs = 0;
let peer: PeerNetwork;
let loopback: Server;
let loopbackPort: number;
/** The processes this test file runs for the whole file (the peer's servers). */
let baseline: number[];

async function exec(executor: Executor, script: string, network: NetworkMode, security?: SecurityMode): Promise<{ out: string; exitCode: number | null }> {
  const dir = path.join(base, `rootfs-${runs++}`);
  await mkdir(path.join(dir, 'upper'), { recursive: true });
  await mkdir(path.join(dir, 'work'));
  let out = '';
  const request: ExecRequest = {
    rootfs: { lowerdirs: [lower], upperdir: path.join(dir, 'upper'), workdir: path.join(dir, 'work') },
    process: { args: ['sh', '-c', script], env: ['PATH=/bin'], cwd: '/', user: '' },
    network,
    mounts: [],
    ...(security === undefined ? {} : { security }),
    onOutput: (_stream, data) => {
      out += data.toString();
    },
  };
  const result = await executor.run(request, { signal: AbortSignal.timeout(60_000) });
  return { out, exitCode: result.exitCode };
}

/** heldNamespaces lists the network namespaces this process holds open (each RUN's, while it runs). */
async function heldNamespaces(): Promise<string[]> {
  const links = await Promise.all((await readdir('/proc/self/fd')).map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
  return links.filter((l) => l.startsWith('net:'));
}

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('network tests need root (namespaces, veth pairs)');
  base = await mkdtemp(path.join(tmpdir(), 'tbuild-run-network-'));
  lower = path.join(base, 'lower');
  await mkdir(path.join(lower, 'bin'), { recursive: true });
  for (const dir of ['etc', 'dev', 'proc', 'sys']) await mkdir(path.join(lower, dir));
  await copyFile('/bin/busybox', path.join(lower, 'bin/busybox'));
  for (const a of APPLETS) await symlink('busybox', path.join(lower, 'bin', a));
  peer = await startPeerNetwork();
  baseline = await childPids();
  loopback = createServer((s) => s.end(`${HOST_REPLY}\n`));
  await new Promise<void>((r) => loopback.listen(0, '127.0.0.1', r));
  loopbackPort = (loopback.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((r) => (loopback === undefined ? r() : loopback.close(() => r())));
  await peer?.[Symbol.asyncDispose]();
  if (base !== undefined) await rm(base, { recursive: true, force: true });
});

/**
 * describeExecutor runs the network tests through one executor, its RUNs' networks made when asked or, with `pooled`,
 * taken from a pool of ready ones (as a controller's builds take them), which the leak check disposes first.
 */
function describeExecutor(name: string, make: (stateDir: string, networks?: NetworkProvider) => Executor, pooled = false): void {
  describe(pooled ? `${name} with a pool of ready networks` : name, () => {
    let executor: Executor;
    let stateDir: string;
    let pool: NetworkPool | undefined;
    beforeAll(() => {
      stateDir = path.join(base, `state-${name.replace(/ /g, '-')}${pooled ? '-pool' : ''}`);
      pool = pooled ? createNetworkPool() : undefined;
      executor = make(stateDir, pool);
    });
    afterAll(async () => {
      await pool?.[Symbol.asyncDispose]();
    });

    it('gives the default network eth0 and an outbound route to an address outside the host', async () => {
      const r = await exec(executor, `ip -o link | grep -o ' eth0:\\| lo:'; nc ${peer.address} ${peer.port} </dev/null`, 'default');
      expect(r.out.split('\n')).toEqual([' lo:', ' eth0:', peer.reply, '']);
      expect(r.exitCode).toBe(0);
    });

    it('resolves names through a DNS server outside the host over UDP', async () => {
      const r = await exec(executor, `nslookup build.example ${peer.address}`, 'default');
      expect(r.out).toContain(`Address: ${PEER_NAME_ADDRESS}`);
      expect(r.exitCode).toBe(0);
    });

    it("keeps the host's loopback out of reach of the default network, and within reach of the host network", async () => {
      const denied = await exec(executor, `nc 127.0.0.1 ${loopbackPort} </dev/null; nc 10.0.2.2 ${loopbackPort} </dev/null; echo done`, 'default');
      expect(denied.out).not.toContain(HOST_REPLY);
      expect(denied.out).toContain('done');
      const host = await exec(executor, `nc 127.0.0.1 ${loopbackPort} </dev/null`, 'host');
      expect(host.out).toBe(`${HOST_REPLY}\n`);
    });

    it('reaches nothing outside with network none', async () => {
      const r = await exec(executor, `nc ${peer.address} ${peer.port} </dev/null; echo "rc=$?"`, 'none');
      expect(r.out).not.toContain(peer.reply);
      expect(r.out).toContain('rc=1');
    });

    it("writes the host's resolvers without loopback ones for the default network, and the host's for host", async () => {
      const host = (await readFile('/etc/resolv.conf', 'utf8').catch(() => '')) ?? '';
      const own = await exec(executor, 'cat /etc/resolv.conf', 'default');
      expect(own.out).toBe(sandboxResolvConf(host, 'default'));
      expect(own.out).not.toMatch(/nameserver 127\./);
      const shared = await exec(executor, 'cat /etc/resolv.conf', 'host');
      expect(shared.out).toBe(sandboxResolvConf(host, 'host'));
    });

    it("gives each RUN a namespace no RUN had before: an insecure step's changes never reach the next", async () => {
      // (A namespace's inode number is no proof: the kernel gives a freed one's to the next.)
      const first = await exec(executor, 'ip addr add 10.9.9.9/32 dev eth0 && ip link set eth0 mtu 1400 && ip -o addr', 'default', 'insecure');
      expect(first.exitCode).toBe(0);
      expect(first.out).toContain('10.9.9.9');
      const next = await exec(executor, 'ip -o addr; ip -o link', 'default');
      expect(next.out).not.toContain('10.9.9.9');
      expect(next.out).toMatch(/ eth0: .* mtu 65520 /);
    });

    it('leaves no namespace, mount or process behind', async () => {
      for (let i = 0; i < 5; i++) {
        // As the solver says it of a RUN whose key missed: the pool starts its network ahead of it.
        executor.expect?.('default');
        expect((await exec(executor, 'true', 'default')).exitCode).toBe(0);
      }
      if (pool !== undefined) {
        expect(pool.stats().taken).toBe(5);
        // The pool's ready networks live with it (the controller's): they go when it is disposed.
        await pool[Symbol.asyncDispose]();
        expect(pool.stats()).toMatchObject({ idle: 0, stopping: 0 });
      }
      expect(await childPids()).toEqual(baseline);
      expect((await readFile('/proc/self/mountinfo', 'utf8')).split('\n').filter((l) => l.includes(stateDir))).toEqual([]);
      expect(await heldNamespaces()).toEqual([]);
    });
  });
}

const withNetworks = (networks: NetworkProvider | undefined): { networks?: NetworkProvider } => (networks === undefined ? {} : { networks });
for (const pooled of [false, true]) {
  describeExecutor('namespace executor', (stateDir, networks) => createNamespaceExecutor({ stateDir, ...withNetworks(networks) }), pooled);
  describeExecutor('runc executor', (stateDir, networks) => createRuncExecutor({ stateDir, runtime: 'runc', ...withNetworks(networks) }), pooled);
  describeExecutor('crun executor', (stateDir, networks) => createRuncExecutor({ stateDir, runtime: 'crun', ...withNetworks(networks) }), pooled);
}

describe('createSandboxNetwork', () => {
  it('reports a missing slirp4netns as a start error naming the step, with the way out, and leaves nothing behind', async () => {
    const before = await childPids();
    {
      await using network = createSandboxNetwork({ signal: AbortSignal.timeout(10_000), argv: ['make'], slirp4netns: path.join(base, 'no-slirp4netns') });
      expect(await heldNamespaces()).toHaveLength(1);
      await expect(network.ready()).rejects.toThrow('Cannot set up the network of ["make"]: cannot run slirp4netns');
      await expect(network.ready()).rejects.toMatchObject({ code: 'EXEC_START', hint: expect.stringContaining('apt-get install slirp4netns') });
    }
    expect(await heldNamespaces()).toEqual([]);
    expect(await childPids()).toEqual(before);
  });

  it("leaves the host's mounts below a shared mount alone (a Docker engine's container roots, systemd's /sys/fs/cgroup)", async () => {
    const shared = path.join(base, 'shared');
    const below = path.join(shared, 'below');
    await mkdir(shared);
    await run('mount', ['-t', 'tmpfs', 'tbuild-shared', shared]);
    try {
      await run('mount', ['--make-shared', shared]);
      await mkdir(below);
      await run('mount', ['-t', 'tmpfs', 'tbuild-below', below]);
      {
        await using network = createSandboxNetwork({ signal: AbortSignal.timeout(30_000), argv: ['true'] });
        await network.ready();
        network.release();
      }
      const mounts = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').map((l) => l.split(' ')[4]);
      expect(mounts).toContain(below);
    } finally {
      await run('umount', ['--recursive', shared]);
    }
  });

  it('stops waiting for a user-mode stack that never gets ready when the step is cancelled, and kills it', async () => {
    const hang = path.join(base, 'hanging-slirp4netns');
    await writeFile(hang, '#!/bin/sh\nexec sleep 60\n', { mode: 0o755 });
    const before = await childPids();
    const controller = new AbortController();
    {
      await using network = createSandboxNetwork({ signal: controller.signal, argv: ['true'], slirp4netns: hang });
      setTimeout(() => controller.abort(new Error('step cancelled')), 200);
      await expect(network.ready()).rejects.toThrow('step cancelled');
    }
    expect(await heldNamespaces()).toEqual([]);
    expect(await childPids()).toEqual(before);
  });
});
