/**
 * Measures the per-RUN overhead of `true` through tbuild's namespace executor and through runc (and crun when
 * installed) driven by the same runtime spec and bundle layout, on one network (none by default). With
 * `--network default`, each executor's runs alternate between the default network and the host's, so the figure of
 * what the step's own network namespace and slirp4netns add is taken under the same load.
 * Usage: node dist/bench/executor-overhead.js [--runs N] [--network none|host|default]
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { createNamespaceExecutor, createRuncExecutor, type Executor, type NetworkMode } from '../executor/index.js';

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

/** measure returns the median time per RUN on each network, their runs interleaved (3 warm-up rounds first). */
async function measure(executor: Executor, work: string, lower: string, runs: number, networks: readonly NetworkMode[]): Promise<number[]> {
  const times = networks.map((): number[] => []);
  for (let i = -3; i < runs; i++) {
    for (const [n, network] of networks.entries()) {
      const ms = await runOnce(executor, work, lower, network);
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
    results.push(['tbuild-sandbox', await measure(createNamespaceExecutor({ stateDir: join(work, 'state-ns') }), work, lower, runs, networks)]);
    for (const runtime of ['runc', 'crun'] as const) {
      if (!(await hasBinary(runtime))) continue;
      const executor = createRuncExecutor({ stateDir: join(work, `state-${runtime}`), runtime });
      try {
        results.push([runtime, await measure(executor, work, lower, runs, networks)]);
      } catch (err) {
        console.log(`${runtime.padEnd(16)} cannot run here: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    const ours = results[0]?.[1][0] ?? 0;
    for (const [name, [ms = 0, host]] of results) {
      const added = host === undefined ? '' : `; host network ${host.toFixed(1)} ms, the default network adds ${(ms - host).toFixed(1)} ms`;
      console.log(`${name.padEnd(16)} median ${ms.toFixed(1)} ms per RUN on network ${network} (${runs} runs), ratio to tbuild-sandbox ${(ms / ours).toFixed(2)}${added}`);
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
