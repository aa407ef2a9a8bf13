/**
 * Benchmarks importing a registry build cache: for each case, a cold build on an empty root versus a build on another
 * empty root with `--cache-from` a mode=max registry cache exported by the first. Usage:
 *   node dist/bench/cache-import.js [--cases bigcontext,manysteps] [--registry HOST] [--config FILE]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const REPO = resolve(import.meta.dirname, '..', '..');
const SHARED_BENCH = resolve(REPO, '..', 'shared', 'bench');

function exec(cmd: string, args: readonly string[]): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('close', (code) => resolvePromise(code ?? -1));
  });
}

async function timed(args: readonly string[]): Promise<number> {
  const start = process.hrtime.bigint();
  const code = await exec(process.execPath, args);
  if (code !== 0) throw new Error(`tbuild ${args.slice(1).join(' ')} exited ${code}`);
  return Number(process.hrtime.bigint() - start) / 1e9;
}

async function benchCase(name: string, registry: string, config: string): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), `tbuild-bench-cache-${name}-`));
  try {
    const ctx = join(work, 'ctx');
    if ((await exec('sh', [join(SHARED_BENCH, 'make-context.sh'), name, ctx])) !== 0) throw new Error(`cannot lay out case ${name}`);
    const cacheRef = `${registry}/bench-cache/${name}:${process.pid}`;
    const build = (root: string, extra: readonly string[]): string[] => [
      join(REPO, 'bin', 'tbuild.js'), 'build', '--root', root, '--config', config, '--progress', 'quiet',
      '--build-arg', `BASE=${registry}/library/busybox:latest`, '-t', `bench-${name}`, ...extra, ctx,
    ];
    const cold = await timed(build(join(work, 'root-cold'), []));
    const exporting = await timed(build(join(work, 'root-export'), ['--cache-to', `type=registry,ref=${cacheRef},mode=max`]));
    const imported = await timed(build(join(work, 'root-import'), ['--cache-from', cacheRef]));
    console.log(
      `${name.padEnd(11)} cold ${cold.toFixed(2)}s  cold+cache-to ${exporting.toFixed(2)}s (x${(exporting / cold).toFixed(2)})  ` +
        `fresh root + cache-from ${imported.toFixed(2)}s (x${(imported / cold).toFixed(2)} of cold, ${(cold / imported).toFixed(1)}x faster)`,
    );
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { cases: { type: 'string' }, registry: { type: 'string' }, config: { type: 'string' } },
  });
  const cases = (values.cases ?? 'bigcontext,manysteps').split(',').filter((c) => c.length > 0);
  const registry = values.registry ?? '127.0.0.1:5000';
  const config = resolve(values.config ?? join(REPO, 'examples', 'offline.toml'));
  for (const name of cases) await benchCase(name, registry, config);
}

await main();
