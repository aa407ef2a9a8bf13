/**
 * Measures the per-RUN overhead of `true` through tbuild's namespace executor and through runc (and crun when
 * installed) driven by the same runtime spec and bundle layout, on one network (none by default). With
 * `--network default`, each executor's runs alternate between the default network made at each RUN, the default network
 * taken from a pool of ready ones (as builds get it) and the host's, so the figures of what the step's own network
 * namespace and slirp4netns add are taken under the same load.
 * Usage: node dist/bench/executor-overhead.js [--runs N] [--network none|host|default]
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { createNamespaceExecutor, createNetworkPool, createRuncExecutor, type Executor, type NetworkMode, type NetworkProvider } from '../executor/index.js';

const run = promisify(execFile);

async function hasBinary(name: string): Promise<boolean> {
  // `which` exits non-zero when the binary is missing.
  return run('which', [name]).then(
    () => true,
    () => false,
  );
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

async function runOnce(executor: Executor, work: string, lower: string, network: NetworkMode): Promise<number> {
  const dir = await mkdtemp(join(work, 'rootfs-'));
  await Promise.all([mkdir(join(dir, 'upper')), mkdir(join(dir, 'work'))]);
  const started = performance.now();
  const result = await executor.run(
    {
      rootfs: { lowerdirs: [lower], upperdir: join(dir, 'upper'), workdir: join(dir, 'work') },
      process: { args: ['/bin/true'], env: [], cwd: '/', user: '' },
      network,
      mounts: [],
    },
    { signal: AbortSignal.timeout(60_000) },
  );
  if (result.exitCode !== 0) throw new Error(`true exited with ${String(result.exitCode)}`);
  const ms = performance.now() - started;
  await rm(dir, { recursive: true, force: true });
  return ms;
}

/** Setup is one way of running: an executor and the network its RUNs get. */
interface Setup {
  readonly executor: Executor;
  readonly network: NetworkMode;
}

/** measure returns the median time per RUN of each setup, their runs interleaved (3 warm-up rounds first). */
async function measure(setups: readonly Setup[], work: string, lower: string, runs: number): Promise<number[]> {
  const times = setups.map((): number[] => []);
  for (let i = -3; i < runs; i++) {
    for (const [n, setup] of setups.entries()) {
      const ms = await runOnce(setup.executor, work, lower, setup.network);
      if (i >= 0) times[n]?.push(ms);
    }
  }
  return times.map(median);
}

function networkOf(text: string): NetworkMode {
  if (text === 'none' || text === 'host' || text === 'default') return text;
  throw new Error(`--network must be none, host or default, not "${text}"`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '50' }, network: { type: 'string', default: 'none' } } });
  const runs = Number(values.runs);
  const network = networkOf(values.network);
  // The default network is compared with the host's, measured alternately under the same load.
  const networks: NetworkMode[] = network === 'default' ? ['default', 'host'] : [network];
  const work = await mkdtemp(join(tmpdir(), 'tbuild-bench-exec-'));
  try {
    const lower = join(work, 'lower');
    await mkdir(join(lower, 'bin'), { recursive: true });
    await mkdir(join(lower, 'etc'));
    await copyFile('/bin/busybox', join(lower, 'bin/busybox'));
    await symlink('busybox', join(lower, 'bin/true'));
    const results: [string, number[]][] = [];
    await using pool = createNetworkPool();
    // With the default network: made at each RUN, taken from the pool, and the host's for reference.
    const setupsOf = (make: (networks?: NetworkProvider) => Executor): Setup[] =>
      network === 'default'
        ? [{ executor: make(), network }, { executor: make(pool), network }, { executor: make(), network: 'host' }]
        : [{ executor: make(), network }];
    const state = (name: string, pooled: boolean): string => join(work, `state-${name}${pooled ? '-pool' : ''}`);
    const sandbox = (networks?: NetworkProvider): Executor =>
      createNamespaceExecutor({ stateDir: state('ns', networks !== undefined), ...(networks === undefined ? {} : { networks }) });
    results.push(['tbuild-sandbox', await measure(setupsOf(sandbox), work, lower, runs)]);
    for (const runtime of ['runc', 'crun'] as const) {
      if (!(await hasBinary(runtime))) continue;
      const make = (networks?: NetworkProvider): Executor =>
        createRuncExecutor({ stateDir: state(runtime, networks !== undefined), runtime, ...(networks === undefined ? {} : { networks }) });
      try {
        results.push([runtime, await measure(setupsOf(make), work, lower, runs)]);
      } catch (err) {
        console.log(`${runtime.padEnd(16)} cannot run here: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    const ours = results[0]?.[1][0] ?? 0;
    for (const [name, [ms = 0, pooled, host]] of results) {
      const added =
        pooled === undefined || host === undefined
          ? ''
          : `; from the pool ${pooled.toFixed(1)} ms; host network ${host.toFixed(1)} ms: the default network adds ${(ms - host).toFixed(1)} ms, ${(pooled - host).toFixed(1)} ms from the pool`;
      console.log(`${name.padEnd(16)} median ${ms.toFixed(1)} ms per RUN on network ${network} (${runs} runs), ratio to tbuild-sandbox ${(ms / ours).toFixed(2)}${added}`);
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
