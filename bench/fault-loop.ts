/**
 * The fault loop: builds of a small Dockerfile (RUN, COPY, an export to the local image store) killed with SIGKILL at
 * a random moment each, and after each kill checks that the store holds no damage (`check-store` finds only what a
 * dead process leaves: reclaimable leftovers), that the next build succeeds with the image digest of a clean build
 * (SOURCE_DATE_EPOCH and rewrite-timestamp make it reproducible), and that no process or mount of the killed build is
 * left; the RUN cgroups of killed builds (empty) must be gone once a later build ran a RUN, which sweeps them. Usage, as
 * root, with the loopback registry serving busybox:
 *   node dist/bench/fault-loop.js [--kills N] [--seed S] [--registry HOST]   (or bench/fault-loop.sh N)
 * The test test/integration/store-fault-loop.test.ts runs the same loop, shorter.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { checkStore, cgroupsOf, countKinds, descendants, mountsUnder, prng, RECLAIMABLE, runCli, survivors } from './store-probe.js';

/** FaultLoopOptions: where the CLI is, a work folder, a settings file reaching busybox, how many kills, the seed. */
export interface FaultLoopOptions {
  readonly entry: string;
  readonly workDir: string;
  readonly config: string;
  readonly kills: number;
  readonly seed: number;
  readonly log: (line: string) => void;
}

/** FaultLoopReport is what the loop found; `failures` is empty when the store came through every kill. */
export interface FaultLoopReport {
  readonly seed: number;
  readonly kills: number;
  /** Kills that hit a running build (the others came after the build had ended). */
  readonly killedRunning: number;
  readonly cleanDigest: string;
  /** Findings after the kills, by kind: reclaimable leftovers only, unless a failure says otherwise. */
  readonly leftovers: ReadonlyMap<string, number>;
  readonly failures: readonly string[];
  readonly seconds: number;
}

const EPOCH = '1700000000';

/** writeContext writes the build context: a Dockerfile with COPY and RUN, text files and a 3 MB file of fixed bytes. */
async function writeContext(dir: string): Promise<void> {
  await mkdir(join(dir, 'files'), { recursive: true });
  for (let i = 0; i < 40; i++) await writeFile(join(dir, 'files', `f${i}.txt`), `file ${i}\n`.repeat(20));
  const chunks: Buffer[] = [];
  for (let i = 0; i < 3 * 1024 * 32; i++) chunks.push(createHash('sha256').update(`fault-loop ${i}`).digest());
  await writeFile(join(dir, 'files', 'big.bin'), Buffer.concat(chunks));
  const dockerfile = ['FROM busybox', 'COPY files/ /files/', 'RUN cat /files/*.txt | md5sum > /sum && dd if=/dev/zero of=/zeros bs=1k count=2048 2>/dev/null', 'COPY files/f1.txt /again.txt', ''];
  await writeFile(join(dir, 'Dockerfile'), dockerfile.join('\n'));
}

/** runFaultLoop runs the loop and reports; it throws only when it cannot run at all (the clean build fails). */
export async function runFaultLoop(options: FaultLoopOptions): Promise<FaultLoopReport> {
  const started = Date.now();
  const { entry, workDir, config, log } = options;
  const ctx = join(workDir, 'ctx');
  const root = join(workDir, 'root');
  await writeContext(ctx);
  const env = { SOURCE_DATE_EPOCH: EPOCH };
  const buildArgs = (storeRoot: string, extra: readonly string[] = []): string[] => ['build', '--root', storeRoot, '--config', config, '--progress', 'quiet', '-o', 'type=image,name=fault:loop,rewrite-timestamp=true', ...extra, ctx];
  const cleanStart = Date.now();
  const clean = await runCli(entry, buildArgs(join(workDir, 'clean-root'), ['--no-cache']), env);
  if (clean.code !== 0) throw new Error(`The clean build failed: ${clean.stderr}`);
  const buildMs = Date.now() - cleanStart;
  const cleanDigest = clean.stdout.trim();
  await rm(join(workDir, 'clean-root'), { recursive: true, force: true });
  const first = await runCli(entry, buildArgs(root), env);
  if (first.code !== 0) throw new Error(`The first build in the loop's store failed: ${first.stderr}`);
  const warmStart = Date.now();
  await runCli(entry, buildArgs(root), env);
  // A build from cache takes less time: its kills are drawn over its own length, so most land while it runs.
  const warmMs = Date.now() - warmStart;
  log(`fault loop: seed ${options.seed}, ${options.kills} kills, clean build ${buildMs} ms, warm ${warmMs} ms, image ${cleanDigest}`);

  const random = prng(options.seed);
  const failures: string[] = [];
  const leftovers = new Map<string, number>();
  let killedRunning = 0;
  const killed: number[] = [];
  for (let i = 0; i < options.kills; i++) {
    // A third of the victims build everything again, a third after a prune emptied the cache, the rest from cache.
    const variant = Math.floor(random() * 3);
    if (variant === 2) await runCli(entry, ['prune', '--all', '--force', '--root', root]);
    const killAfter = Math.floor(random() * (variant === 1 ? warmMs : buildMs) * 1.1);
    const child = spawn(process.execPath, [entry, ...buildArgs(root, variant === 0 ? ['--no-cache'] : [])], { env: { ...process.env, ...env }, stdio: 'ignore' });
    const closed = new Promise<boolean>((resolvePromise) => child.on('close', (_code, signal) => resolvePromise(signal === 'SIGKILL')));
    const pid = child.pid ?? 0;
    killed.push(pid);
    await new Promise((resolvePromise) => setTimeout(resolvePromise, killAfter));
    const below = await descendants(pid);
    child.kill('SIGKILL');
    if (await closed) killedRunning++;
    const where = `kill ${i + 1} (${['--no-cache', 'cached', 'after prune'][variant]}, after ${killAfter} ms)`;
    const left = await survivors(below, 5000);
    if (left.length > 0) failures.push(`${where}: processes left: ${left.join('; ')}`);
    const mounts = await mountsUnder(workDir);
    if (mounts.length > 0) failures.push(`${where}: mounts left: ${mounts.join('; ')}`);
    const found = await checkStore(entry, root);
    countKinds(found.entries, leftovers);
    const damage = found.entries.filter((e) => !RECLAIMABLE.has(e.kind));
    if (damage.length > 0) failures.push(`${where}: check-store found damage: ${JSON.stringify(damage)}`);
    const next = await runCli(entry, buildArgs(root), env);
    if (next.code !== 0) failures.push(`${where}: the next build failed: ${next.stderr}`);
    else if (next.stdout.trim() !== cleanDigest) failures.push(`${where}: the next build made ${next.stdout.trim()}, a clean build ${cleanDigest}`);
    log(`${where}: ${found.entries.length === 0 ? 'store clean' : `${found.entries.length} findings (${[...new Set(found.entries.map((e) => e.kind))].join(', ')})`}; next build ${next.code === 0 ? 'ok' : 'FAILED'}`);
  }
  // A RUN sweeps the cgroups of dead processes' RUNs (the next build may have run none, all its steps cached).
  const last = await runCli(entry, buildArgs(root, ['--no-cache']), env);
  if (last.code !== 0) failures.push(`the last build (--no-cache) failed: ${last.stderr}`);
  const cgroups = (await Promise.all(killed.map(cgroupsOf))).flat();
  if (cgroups.length > 0) failures.push(`cgroups of killed builds left after a RUN swept them: ${cgroups.join(' ')}`);
  const repaired = await checkStore(entry, root, '--repair');
  if (repaired.code !== 0) failures.push(`check-store --repair left: ${JSON.stringify(repaired.entries.filter((e) => !e.removed))}`);
  const after = await checkStore(entry, root, '--all-blobs');
  if (after.code !== 0) failures.push(`check-store after the repair found: ${JSON.stringify(after.entries)}`);
  return { seed: options.seed, kills: options.kills, killedRunning, cleanDigest, leftovers, failures, seconds: (Date.now() - started) / 1000 };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { kills: { type: 'string', default: '100' }, seed: { type: 'string' }, registry: { type: 'string', default: '127.0.0.1:5000' } } });
  const repo = resolve(import.meta.dirname, '..', '..');
  const workDir = await mkdtemp(join(tmpdir(), 'tbuild-fault-loop-'));
  try {
    const config = join(workDir, 'tbuild.toml');
    await writeFile(config, `[registry."docker.io"]\nmirrors = ["${values.registry}"]\n`);
    const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed);
    const report = await runFaultLoop({ entry: join(repo, 'bin', 'tbuild.js'), workDir, config, kills: Number(values.kills), seed, log: (line) => console.log(line) });
    console.log(`\n${report.kills} kills (${report.killedRunning} during a build), seed ${report.seed}, ${report.seconds.toFixed(0)} s`);
    console.log(`leftovers found after kills: ${[...report.leftovers].map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`);
    console.log(report.failures.length === 0 ? 'no damage, every next build made the clean image, nothing left behind' : `FAILURES (${report.failures.length}):\n${report.failures.join('\n')}`);
    process.exitCode = report.failures.length === 0 ? 0 : 1;
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

if (process.argv[1] === import.meta.filename) await main();
