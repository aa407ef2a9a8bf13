/**
 * Benchmarks tbuild on the shared benchmark cases: cold, warm (no change) and one-file-change builds,
 * timed as whole processes like the peers' figures, through the launcher users run (native/build/tbuild,
 * served by the resident builder); warm builds are also timed as `node bin/tbuild.js` (direct). Usage:
 *   node dist/bench/run.js [--cases tiny,manysteps,...] [--runs N] [--registry HOST] [--peer docker]
 */
import { spawn } from 'node:child_process';
import { access, appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const REPO = resolve(import.meta.dirname, '..', '..');
const SHARED_BENCH = resolve(REPO, '..', 'shared', 'bench');
const LAUNCHER = join(REPO, 'native', 'build', 'tbuild');
const ENTRY = join(REPO, 'bin', 'tbuild.js');

/** CHANGED_FILES is the file each case edits for the one-file-change scenario. */
const CHANGED_FILES: Readonly<Record<string, string>> = {
  tiny: 'files/file-05.txt',
  bigcontext: 'app/src/index.js',
  cachemount: 'input.txt',
  manysteps: 'files/step-10.txt',
};

interface Timing {
  readonly scenario: string;
  readonly seconds: number[];
}

function exec(cmd: string, args: readonly string[], options: { cwd?: string; quiet?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const stdio = options.quiet ? 'ignore' : 'inherit';
    const child = spawn(cmd, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', stdio, stdio] });
    child.on('error', reject);
    child.on('close', (code) => resolvePromise(code ?? -1));
  });
}

async function timed(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<number> {
  const start = process.hrtime.bigint();
  const code = await exec(cmd, args, { quiet: true, env });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${code}`);
  return seconds;
}

function summary(values: readonly number[]): string {
  const s = [...values].sort((a, b) => a - b);
  const median = s[Math.floor(s.length / 2)] ?? 0;
  return `${median.toFixed(2)} [${(s[0] ?? 0).toFixed(2)}-${(s[s.length - 1] ?? 0).toFixed(2)}]`;
}

async function waitForFile(path: string, ms: number): Promise<void> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
    if (await access(path).then(() => true, () => false)) return;
  }
  throw new Error(`the resident builder did not create ${path}`);
}

async function benchCase(name: string, runs: number, registry: string): Promise<Timing[]> {
  const work = await mkdtemp(join(tmpdir(), `tbuild-bench-${name}-`));
  // A resident builder of this benchmark's own, stopped at the end.
  const socket = join(work, 'daemon', 'daemon.sock');
  const env = { TBUILD_DAEMON_SOCKET: socket, TBUILD_DAEMON: '1' };
  try {
    const ctx = join(work, 'ctx');
    if ((await exec('sh', [join(SHARED_BENCH, 'make-context.sh'), name, ctx], { quiet: true })) !== 0) throw new Error(`cannot lay out case ${name}`);
    const build = (root: string): string[] => [
      'build', '--root', root, '--progress', 'quiet', '--build-arg', `BASE=${registry}/library/busybox:latest`, '-t', `bench-${name}`, ctx,
    ];
    const cold: number[] = [];
    const warm: number[] = [];
    const direct: number[] = [];
    const change: number[] = [];
    for (let i = 0; i < runs; i++) {
      const root = join(work, `root-${i}`);
      // Cold: the base image is local, nothing else is cached.
      const primer = join(work, `primer-${i}`);
      await exec('mkdir', ['-p', primer]);
      await writeFile(join(primer, 'Dockerfile'), `FROM ${registry}/library/busybox:latest\n`);
      await timed(LAUNCHER, ['build', '--root', root, '--progress', 'quiet', primer], env);
      if (i === 0) await waitForFile(socket, 10_000);
      cold.push(await timed(LAUNCHER, build(root), env));
      warm.push(await timed(LAUNCHER, build(root), env));
      direct.push(await timed(process.execPath, [ENTRY, ...build(root)]));
      const file = CHANGED_FILES[name];
      if (file !== undefined) {
        await appendFile(join(ctx, file), `change ${i}\n`);
        change.push(await timed(LAUNCHER, build(root), env));
      }
      await rm(root, { recursive: true, force: true });
    }
    const out: Timing[] = [{ scenario: 'cold', seconds: cold }, { scenario: 'warm', seconds: warm }, { scenario: 'warm (direct node)', seconds: direct }];
    if (change.length > 0) out.push({ scenario: 'change', seconds: change });
    return out;
  } finally {
    await exec(process.execPath, [ENTRY, 'daemon', 'stop', '--socket', socket], { quiet: true });
    await rm(work, { recursive: true, force: true });
  }
}

async function mainBench(): Promise<void> {
  const { values } = parseArgs({
    options: {
      cases: { type: 'string', default: 'tiny,manysteps,parallel,cachemount,bigcontext' },
      runs: { type: 'string', default: '5' },
      registry: { type: 'string', default: '127.0.0.1:5000' },
    },
  });
  const runs = Number(values.runs);
  process.stdout.write(`| case | scenario | tbuild s (median [min-max], ${runs} runs) |\n|---|---|---|\n`);
  for (const name of values.cases.split(',')) {
    for (const t of await benchCase(name, runs, values.registry)) {
      process.stdout.write(`| ${name} | ${t.scenario} | ${summary(t.seconds)} |\n`);
    }
  }
}

await mainBench();
