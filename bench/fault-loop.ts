/**
 * The fault loop: work on a store killed with SIGKILL at a random moment each, of every kind the store serves (see
 * bench/fault-kinds.ts): a build (RUN, COPY, an export to the local image store), a pull of a base image into an empty
 * store, a push, a cache export or import (local folder or registry), a collection beside a build, and a build through
 * `tbuild serve` whose server is killed and started again on the same store. After each kill it checks that the store
 * holds no damage (`check-store` finds only what a dead process leaves: reclaimable leftovers), that the same work
 * then succeeds with the result of clean work (SOURCE_DATE_EPOCH and rewrite-timestamp make builds reproducible) and
 * uses again what was complete, and that no process or mount of the killed work is left; the RUN cgroups of killed
 * builds (empty) must be gone once a later build ran a RUN, which sweeps them. Usage, as root, with the loopback
 * registry serving busybox (pushes go to a registry of the loop's own):
 *   node dist/bench/fault-loop.js [--kills N] [--seed S] [--registry HOST]   (or bench/fault-loop.sh N)
 * The test test/integration/store-fault-loop.test.ts runs the same loop, shorter.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildArgs, cacheSpecs, EPOCH, FAULT_KINDS, KILLERS, pullArgs, pushArgs, pushName, serveArgs, stopServe, type Baseline, type FaultKind, type KillContext } from './fault-kinds.js';
import { checkStore, cgroupsOf, countKinds, imageOf, mountsUnder, prng, RECLAIMABLE, runCli, startServe, type CliRun } from './store-probe.js';

/** FaultLoopOptions: where the CLI is, a work folder, a settings file reaching busybox, a registry to push to, how many kills, the seed. */
export interface FaultLoopOptions {
  readonly entry: string;
  readonly workDir: string;
  readonly config: string;
  /** HOST:PORT of a plain-HTTP registry the loop pushes images and caches to (deleting what it pushed there). */
  readonly registry: string;
  readonly kills: number;
  readonly seed: number;
  readonly log: (line: string) => void;
}

/** KindFigures count, for one kind of work, its kills, those that hit it running, and the kills that found a failure. */
export interface KindFigures {
  kills: number;
  running: number;
  failed: number;
}

/** FaultLoopReport is what the loop found; `failures` is empty when the store came through every kill. */
export interface FaultLoopReport {
  readonly seed: number;
  readonly kills: number;
  /** Kills that hit running work (the others came after it had ended). */
  readonly killedRunning: number;
  readonly byKind: ReadonlyMap<FaultKind, KindFigures>;
  readonly cleanDigest: string;
  /** Findings after the kills, by kind: reclaimable leftovers only, unless a failure says otherwise. */
  readonly leftovers: ReadonlyMap<string, number>;
  readonly failures: readonly string[];
  readonly seconds: number;
}

/** writeContext writes the build context: a Dockerfile with COPY and RUN, text files and a 3 MB file of fixed bytes. */
async function writeContext(dir: string): Promise<void> {
  await mkdir(join(dir, 'files'), { recursive: true });
  for (let i = 0; i < 40; i++) await writeFile(join(dir, 'files', `f${i}.txt`), `file ${i}\n`.repeat(20));
  const chunks: Buffer[] = [];
  for (let i = 0; i < 3 * 1024 * 32; i++) chunks.push(createHash('sha256').update(`fault-loop ${i}`).digest());
  await writeFile(join(dir, 'files', 'big.bin'), Buffer.concat(chunks));
  const dockerfile = ['FROM busybox', 'COPY files/ /files/', 'RUN cat /files/*.txt | md5sum > /sum && dd if=/dev/zero of=/zeros bs=1k count=2048 2>/dev/null', 'COPY files/f1.txt /again.txt', ''];
  await writeFile(join(dir, 'Dockerfile'), dockerfile.join('\n'));
  await writeFile(join(dir, 'Dockerfile.pull'), 'FROM busybox\n');
}

/** timed runs work and returns its result and how long it took; work that fails stops the loop before any kill. */
async function timed(what: string, work: () => Promise<CliRun>, image?: string): Promise<{ run: CliRun; ms: number }> {
  const started = Date.now();
  const run = await work();
  if (run.code !== 0) throw new Error(`Cannot measure ${what}: it failed: ${run.stderr.slice(-2000)}`);
  if (image !== undefined && imageOf(run) !== image) throw new Error(`Cannot measure ${what}: it made ${imageOf(run)}, a clean build ${image}`);
  return { run, ms: Date.now() - started };
}

/** measure does each kind of work once, untouched, for the results the kills are compared with and the time each takes. */
async function measure(c: Omit<KillContext, 'baseline' | 'random' | 'check'>): Promise<Baseline> {
  const env = { SOURCE_DATE_EPOCH: EPOCH };
  const cli = (args: readonly string[], withEnv = true) => () => runCli(c.entry, args, withEnv ? env : {});
  const cleanRoot = join(c.workDir, 'clean-root');
  const clean = await timed('a clean build', cli(buildArgs(c, ['--root', cleanRoot], ['--no-cache'])));
  const image = imageOf(clean.run) ?? '';
  const prune = await timed('a prune', cli(['prune', '--all', '--force', '--root', cleanRoot], false));
  await rm(cleanRoot, { recursive: true, force: true });
  await timed('the first build', cli(buildArgs(c, ['--root', c.root])), image);
  const warm = await timed('a build from cache', cli(buildArgs(c, ['--root', c.root])), image);
  const pullRoot = join(c.workDir, 'pull-root');
  const pull = await timed('a pull', cli(pullArgs(c, pullRoot)));
  await rm(pullRoot, { recursive: true, force: true });
  await timed('tagging', cli(['tag', '--root', c.root, 'fault:loop', pushName(c.registry)], false));
  const push = await timed('a push', cli(pushArgs(c), false));
  const pushed = push.run.stdout.trim();
  const manifest = await fetch(`http://${c.registry}/v2/fault/loop/manifests/${pushed.split('@')[1]}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' } });
  const body = (await manifest.json()) as { config: { digest: string }; layers: { digest: string }[] };
  const importRoot = join(c.workDir, 'import-root');
  const cacheMs = async (type: 'local' | 'registry'): Promise<[number, number]> => {
    const spec = cacheSpecs(c, type);
    const exported = await timed(`a ${type} cache export`, cli(buildArgs(c, ['--root', c.root], ['--cache-to', spec.to])), image);
    await rm(importRoot, { recursive: true, force: true });
    const imported = await timed(`a ${type} cache import`, cli(buildArgs(c, ['--root', importRoot], ['--cache-from', spec.from])), image);
    await rm(importRoot, { recursive: true, force: true });
    return [exported.ms, imported.ms];
  };
  const [exportLocal, importLocal] = await cacheMs('local');
  const [exportRegistry, importRegistry] = await cacheMs('registry');
  const { address, args } = serveArgs(c);
  const server = await startServe(c.entry, args);
  let serve: number;
  try {
    serve = (await timed('a build through tbuild serve', cli(buildArgs(c, ['--builder', address])), image)).ms;
  } finally {
    await stopServe(server);
  }
  return {
    image,
    pullImage: imageOf(pull.run) ?? '',
    pushed,
    pushedBlobs: [body.config.digest, ...body.layers.map((l) => l.digest)],
    ms: { build: clean.ms, warm: warm.ms, pull: pull.ms, push: push.ms, prune: prune.ms, serve, exportLocal, exportRegistry, importLocal, importRegistry },
  };
}

/** kindOrder gives each kill its kind: every kind once per round, in a seeded order. */
function kindOrder(random: () => number, kills: number): FaultKind[] {
  const out: FaultKind[] = [];
  while (out.length < kills) {
    const round = [...FAULT_KINDS];
    for (let i = round.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [round[i], round[j]] = [round[j] as FaultKind, round[i] as FaultKind];
    }
    out.push(...round);
  }
  return out.slice(0, kills);
}

/** runFaultLoop runs the loop and reports; it throws only when it cannot run at all (clean work fails). */
export async function runFaultLoop(options: FaultLoopOptions): Promise<FaultLoopReport> {
  const started = Date.now();
  const { entry, workDir, config, log } = options;
  const ctx = join(workDir, 'ctx');
  const root = join(workDir, 'root');
  await writeContext(ctx);
  const base = { entry, workDir, config, ctx, root, registry: options.registry };
  const baseline = await measure(base);
  log(`fault loop: seed ${options.seed}, ${options.kills} kills, image ${baseline.image}; ms: ${Object.entries(baseline.ms).map(([k, v]) => `${k} ${v}`).join(', ')}`);

  const random = prng(options.seed);
  const failures: string[] = [];
  const leftovers = new Map<string, number>();
  const byKind = new Map<FaultKind, KindFigures>(FAULT_KINDS.map((k) => [k, { kills: 0, running: 0, failed: 0 }]));
  let killedRunning = 0;
  const killed: number[] = [];
  const order = kindOrder(random, options.kills);
  for (const [i, kind] of order.entries()) {
    const found: string[] = [];
    const damage: string[] = [];
    const check = async (storeRoot: string): Promise<void> => {
      // Work killed before it made its store (the metadata database) left nothing to check; the next work makes it.
      if (!existsSync(join(storeRoot, 'meta', 'data.mdb'))) return;
      const r = await checkStore(entry, storeRoot);
      countKinds(r.entries, leftovers);
      found.push(...r.entries.map((e) => e.kind));
      damage.push(...r.entries.filter((e) => !RECLAIMABLE.has(e.kind)).map((e) => JSON.stringify(e)));
    };
    const outcome = await KILLERS[kind]({ ...base, baseline, random, check });
    const where = `kill ${i + 1} (${outcome.label})`;
    const figures = byKind.get(kind) ?? { kills: 0, running: 0, failed: 0 };
    figures.kills++;
    killed.push(outcome.killedPid);
    if (outcome.running) {
      killedRunning++;
      figures.running++;
    }
    const own: string[] = [...outcome.failures];
    if (outcome.left.length > 0) own.push(`processes left: ${outcome.left.join('; ')}`);
    const mounts = await mountsUnder(workDir);
    if (mounts.length > 0) own.push(`mounts left: ${mounts.join('; ')}`);
    if (damage.length > 0) own.push(`check-store found damage: ${damage.join(' ')}`);
    if (own.length > 0) figures.failed++;
    failures.push(...own.map((f) => `${where}: ${f}`));
    log(`${where}: ${outcome.running ? 'hit running' : 'came after the end'}; ${found.length === 0 ? 'store clean' : `${found.length} findings (${[...new Set(found)].join(', ')})`}; ${own.length === 0 ? 'next ok' : `FAILED: ${own.join('; ')}`}`);
  }
  // A RUN sweeps the cgroups of dead processes' RUNs (the next build may have run none, all its steps cached).
  const last = await runCli(entry, buildArgs(base, ['--root', root], ['--no-cache']), { SOURCE_DATE_EPOCH: EPOCH });
  if (last.code !== 0) failures.push(`the last build (--no-cache) failed: ${last.stderr}`);
  const cgroups = (await Promise.all(killed.map(cgroupsOf))).flat();
  if (cgroups.length > 0) failures.push(`cgroups of killed builds left after a RUN swept them: ${cgroups.join(' ')}`);
  for (const storeRoot of [root, join(workDir, 'pull-root'), join(workDir, 'import-root')].filter((r) => existsSync(join(r, 'meta', 'data.mdb')))) {
    const repaired = await checkStore(entry, storeRoot, '--repair');
    if (repaired.code !== 0) failures.push(`check-store --repair of ${storeRoot} left: ${JSON.stringify(repaired.entries.filter((e) => !e.removed))}`);
    const after = await checkStore(entry, storeRoot, '--all-blobs');
    if (after.code !== 0) failures.push(`check-store of ${storeRoot} after the repair found: ${JSON.stringify(after.entries)}`);
  }
  return { seed: options.seed, kills: options.kills, killedRunning, byKind, cleanDigest: baseline.image, leftovers, failures, seconds: (Date.now() - started) / 1000 };
}

/** startRegistry runs Debian's docker-registry on a free loopback port, storing in `dir`, for the loop's pushes. */
async function startRegistry(dir: string): Promise<{ host: string; stop: () => Promise<void> }> {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const address = probe.address();
  probe.close();
  if (address === null || typeof address === 'string') throw new Error('Cannot find a free loopback port for the registry');
  const host = `127.0.0.1:${address.port}`;
  const lines = ['version: 0.1', 'log:', '  level: error', '  accesslog:', '    disabled: true', 'storage:', '  filesystem:', `    rootdirectory: ${join(dir, 'storage')}`, '  delete:', '    enabled: true', 'http:', `  addr: ${host}`, ''];
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'config.yml'), lines.join('\n'));
  const child = spawn('/usr/bin/docker-registry', ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  };
  for (let i = 0; ; i++) {
    const ready = await fetch(`http://${host}/v2/`).then((r) => r.ok, () => false);
    if (ready) return { host, stop };
    if (i === 100 || child.exitCode !== null) {
      await stop();
      throw new Error(`Cannot start docker-registry on ${host}`);
    }
    await delay(100);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { kills: { type: 'string', default: '100' }, seed: { type: 'string' }, registry: { type: 'string', default: '127.0.0.1:5000' } } });
  const repo = resolve(import.meta.dirname, '..', '..');
  const workDir = await mkdtemp(join(tmpdir(), 'tbuild-fault-loop-'));
  const registry = await startRegistry(join(workDir, 'registry'));
  try {
    const config = join(workDir, 'tbuild.toml');
    await writeFile(config, `[registry."docker.io"]\nmirrors = ["${values.registry}"]\n`);
    const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed);
    const report = await runFaultLoop({ entry: join(repo, 'bin', 'tbuild.js'), workDir, config, registry: registry.host, kills: Number(values.kills), seed, log: (line) => console.log(line) });
    console.log(`\n${report.kills} kills (${report.killedRunning} while the work ran), seed ${report.seed}, ${report.seconds.toFixed(0)} s`);
    for (const [kind, f] of report.byKind) console.log(`${kind}: ${f.kills} kills, ${f.running} while it ran, ${f.failed} with failures`);
    console.log(`leftovers found after kills: ${[...report.leftovers].map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`);
    console.log(report.failures.length === 0 ? 'no damage, all work after a kill made the clean result and reused what was complete, nothing left behind' : `FAILURES (${report.failures.length}):\n${report.failures.join('\n')}`);
    process.exitCode = report.failures.length === 0 ? 0 : 1;
  } finally {
    await registry.stop();
    await rm(workDir, { recursive: true, force: true });
  }
}

if (process.argv[1] === import.meta.filename) await main();
