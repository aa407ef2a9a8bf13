/**
 * Measures the per-RUN overhead of `true` through tbuild's namespace executor and through runc (and crun when
 * installed) driven by the same runtime spec and bundle layout. Usage: node dist/bench/executor-overhead.js [--runs N]
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { createNamespaceExecutor, createRuncExecutor, type Executor } from '../executor/index.js';

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

async function measure(executor: Executor, work: string, lower: string, runs: number): Promise<number> {
  const times: number[] = [];
  for (let i = -3; i < runs; i++) {
    const dir = await mkdtemp(join(work, 'rootfs-'));
    await Promise.all([mkdir(join(dir, 'upper')), mkdir(join(dir, 'work'))]);
    const started = performance.now();
    const result = await executor.run(
      {
        rootfs: { lowerdirs: [lower], upperdir: join(dir, 'upper'), workdir: join(dir, 'work') },
        process: { args: ['/bin/true'], env: [], cwd: '/', user: '' },
        network: 'none',
        mounts: [],
      },
      { signal: AbortSignal.timeout(60_000) },
    );
    if (result.exitCode !== 0) throw new Error(`true exited with ${String(result.exitCode)}`);
    if (i >= 0) times.push(performance.now() - started);
    await rm(dir, { recursive: true, force: true });
  }
  return median(times);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '50' } } });
  const runs = Number(values.runs);
  const work = await mkdtemp(join(tmpdir(), 'tbuild-bench-exec-'));
  try {
    const lower = join(work, 'lower');
    await mkdir(join(lower, 'bin'), { recursive: true });
    await mkdir(join(lower, 'etc'));
    await copyFile('/bin/busybox', join(lower, 'bin/busybox'));
    await symlink('busybox', join(lower, 'bin/true'));
    const results: [string, number][] = [];
    results.push(['tbuild-sandbox', await measure(createNamespaceExecutor({ stateDir: join(work, 'state-ns') }), work, lower, runs)]);
    for (const runtime of ['runc', 'crun'] as const) {
      if (!(await hasBinary(runtime))) continue;
      const executor = createRuncExecutor({ stateDir: join(work, `state-${runtime}`), runtime });
      try {
        results.push([runtime, await measure(executor, work, lower, runs)]);
      } catch (err) {
        console.log(`${runtime.padEnd(16)} cannot run here: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    const ours = results[0]?.[1] ?? 0;
    for (const [name, ms] of results) console.log(`${name.padEnd(16)} median ${ms.toFixed(1)} ms per RUN (${runs} runs), ratio to tbuild-sandbox ${(ms / ours).toFixed(2)}`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
