/**
 * The kinds of work the fault loop kills (bench/fault-loop.ts): a build, a pull of a base image into an empty store, a
 * push, a cache export or import, a collection running beside a build, and a build through `tbuild serve` whose server
 * is killed. Each kill checks the store it hit at once, then does the same work again and checks that it succeeds and
 * that what was complete is used again: a cached step stays cached, a blob the store or the registry holds is not
 * fetched or pushed again.
 */
import { type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { imageOf, killAfter, runCli, startCli, startServe, uncachedSteps, type CliRun } from './store-probe.js';

/** FAULT_KINDS are the kinds of work killed; the loop takes them in a seeded order, each once per round. */
export const FAULT_KINDS = ['build', 'pull', 'push', 'cache', 'prune', 'serve'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Baseline is what the loop measured before its kills: the clean results and how long each kind of work takes. */
export interface Baseline {
  readonly image: string;
  readonly pullImage: string;
  readonly pushed: string;
  /** The blobs of the pushed image (config and layers), as the registry holds them. */
  readonly pushedBlobs: readonly string[];
  readonly ms: Readonly<Record<'build' | 'warm' | 'pull' | 'push' | 'prune' | 'serve' | 'exportLocal' | 'exportRegistry' | 'importLocal' | 'importRegistry', number>>;
}

/** KillContext is what a kill needs: the CLI, the loop's folders and store, the registry it pushes to, the baseline. */
export interface KillContext {
  readonly entry: string;
  readonly workDir: string;
  readonly config: string;
  readonly ctx: string;
  readonly root: string;
  readonly registry: string;
  readonly baseline: Baseline;
  readonly random: () => number;
  /** check runs check-store on a store right after the kill; the loop counts its findings and judges them. */
  readonly check: (root: string) => Promise<void>;
}

/** KillOutcome is what one kill found: whether it hit running work, processes left, and what failed after it. */
export interface KillOutcome {
  readonly label: string;
  readonly running: boolean;
  readonly killedPid: number;
  readonly left: readonly string[];
  readonly failures: readonly string[];
}

export const EPOCH = '1700000000';
const ENV = { SOURCE_DATE_EPOCH: EPOCH };
const OUTPUT = ['-o', 'type=image,name=fault:loop,rewrite-timestamp=true'];

/** buildArgs are a build of the loop's context into a store (`--root`) or through a builder (`--builder`). */
export function buildArgs(c: Pick<KillContext, 'config' | 'ctx'>, target: readonly string[], extra: readonly string[] = []): string[] {
  const where = target[0] === '--builder' ? target : [...target, '--config', c.config];
  return ['build', ...where, '--progress', 'plain', ...OUTPUT, ...extra, c.ctx];
}
export const pullArgs = (c: Pick<KillContext, 'config' | 'ctx'>, root: string): string[] => ['build', '--root', root, '--config', c.config, '--progress', 'plain', '-o', 'type=image,name=fault:pull,rewrite-timestamp=true', '-f', join(c.ctx, 'Dockerfile.pull'), c.ctx];
export const pushName = (registry: string): string => `${registry}/fault/loop:latest`;
export const pushArgs = (c: Pick<KillContext, 'config' | 'root' | 'registry'>): string[] => ['push', '--root', c.root, '--config', c.config, '--progress', 'plain', pushName(c.registry)];
export const cacheSpecs = (c: Pick<KillContext, 'workDir' | 'registry'>, type: 'local' | 'registry'): { to: string; from: string } =>
  type === 'local' ? { to: `type=local,dest=${join(c.workDir, 'cache-local')},mode=max`, from: `type=local,src=${join(c.workDir, 'cache-local')}` } : { to: `type=registry,ref=${c.registry}/fault/cache:latest,mode=max`, from: `type=registry,ref=${c.registry}/fault/cache:latest` };

export async function runBuild(c: KillContext, args: readonly string[]): Promise<CliRun> {
  return runCli(c.entry, args, ENV);
}

/** expectImage checks that a build succeeded with the expected image and, when `cached`, took every step from the cache. */
function expectImage(what: string, run: CliRun, image: string, cached: boolean): string[] {
  if (run.code !== 0) return [`${what} failed: ${run.stderr.slice(-2000)}`];
  if (imageOf(run) !== image) return [`${what} made ${imageOf(run)}, a clean build ${image}`];
  const ran = cached ? uncachedSteps(run.stderr) : [];
  return ran.length > 0 ? [`${what} ran steps that were cached: ${ran.join('; ')}`] : [];
}

/** blobFiles maps each blob of a store's content store to its inode: a blob fetched again is a new file. */
async function blobFiles(root: string): Promise<Map<string, number>> {
  const dir = join(root, 'content', 'blobs', 'sha256');
  const out = new Map<string, number>();
  for (const name of await readdir(dir).catch(() => [] as string[])) out.set(name, (await stat(join(dir, name))).ino);
  return out;
}

async function expectBlobsKept(what: string, root: string, before: ReadonlyMap<string, number>): Promise<string[]> {
  const after = await blobFiles(root);
  const refetched = [...before].filter(([name, ino]) => after.has(name) && after.get(name) !== ino).map(([name]) => name);
  return refetched.length > 0 ? [`${what} fetched again blobs the store held: ${refetched.join(' ')}`] : [];
}

const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
/** upTo draws a kill's moment over the time the work took untouched, most of it: a kill after the end tests little. */
const upTo = (random: () => number, ms: number): number => Math.floor(random() * ms * 0.9);

/** killBuild kills a build (everything again, from the cache, or after a prune emptied the cache). */
async function killBuild(c: KillContext): Promise<KillOutcome> {
  const variant = pick(c.random, ['--no-cache', 'cached', 'after prune'] as const);
  if (variant === 'after prune') await runCli(c.entry, ['prune', '--all', '--force', '--root', c.root]);
  const ms = upTo(c.random, variant === 'cached' ? c.baseline.ms.warm : c.baseline.ms.build);
  const run = startCli(c.entry, buildArgs(c, ['--root', c.root], variant === '--no-cache' ? ['--no-cache'] : []), ENV);
  const { running, left } = await killAfter(run, ms);
  await c.check(c.root);
  // After a prune only the steps the killed build completed are cached; before it, every step was.
  const next = await runBuild(c, buildArgs(c, ['--root', c.root]));
  return { label: `build ${variant}, after ${ms} ms`, running, killedPid: run.child.pid ?? 0, left, failures: expectImage('the next build', next, c.baseline.image, variant !== 'after prune') };
}

/** killPull kills a build pulling its base image into an empty store. */
async function killPull(c: KillContext): Promise<KillOutcome> {
  const root = join(c.workDir, 'pull-root');
  await rm(root, { recursive: true, force: true });
  const ms = upTo(c.random, c.baseline.ms.pull);
  const run = startCli(c.entry, pullArgs(c, root), ENV);
  const { running, left } = await killAfter(run, ms);
  await c.check(root);
  const held = await blobFiles(root);
  const next = await runBuild(c, pullArgs(c, root));
  const failures = [...expectImage('the next pull', next, c.baseline.pullImage, false), ...(await expectBlobsKept('the next pull', root, held))];
  return { label: `pull, after ${ms} ms (${held.size} blobs held)`, running, killedPid: run.child.pid ?? 0, left, failures };
}

async function registryHas(registry: string, repo: string, digest: string): Promise<boolean> {
  const res = await fetch(`http://${registry}/v2/${repo}/blobs/${digest}`, { method: 'HEAD' });
  return res.status === 200;
}

/** killPush kills a push to a repository that lost its manifest and blobs, so the push has them all to send. */
async function killPush(c: KillContext): Promise<KillOutcome> {
  const repo = 'fault/loop';
  const [, manifest] = c.baseline.pushed.split('@');
  await fetch(`http://${c.registry}/v2/${repo}/manifests/${manifest}`, { method: 'DELETE' });
  for (const blob of c.baseline.pushedBlobs) await fetch(`http://${c.registry}/v2/${repo}/blobs/${blob}`, { method: 'DELETE' });
  const ms = upTo(c.random, c.baseline.ms.push);
  const run = startCli(c.entry, pushArgs(c));
  const { running, left } = await killAfter(run, ms);
  await c.check(c.root);
  const present = [];
  for (const blob of c.baseline.pushedBlobs) if (await registryHas(c.registry, repo, blob)) present.push(blob);
  const next = await runCli(c.entry, pushArgs(c));
  const failures: string[] = [];
  if (next.code !== 0) failures.push(`the next push failed: ${next.stderr.slice(-2000)}`);
  else if (next.stdout.trim() !== c.baseline.pushed) failures.push(`the next push made ${next.stdout.trim()}, a clean push ${c.baseline.pushed}`);
  const again = present.filter((blob) => next.stderr.includes(`pushing ${blob}`));
  if (again.length > 0) failures.push(`the next push sent again blobs the registry had: ${again.join(' ')}`);
  return { label: `push, after ${ms} ms (${present.length}/${c.baseline.pushedBlobs.length} blobs up)`, running, killedPid: run.child.pid ?? 0, left, failures };
}

/** killCache kills a build exporting its cache, or one importing it into an empty store (local folder or registry). */
async function killCache(c: KillContext): Promise<KillOutcome> {
  const type = pick(c.random, ['local', 'registry'] as const);
  const direction = pick(c.random, ['export', 'import'] as const);
  const spec = cacheSpecs(c, type);
  const importRoot = join(c.workDir, 'import-root');
  const importArgs = buildArgs(c, ['--root', importRoot], ['--cache-from', spec.from]);
  await rm(importRoot, { recursive: true, force: true });
  const ms = upTo(c.random, c.baseline.ms[`${direction}${type === 'local' ? 'Local' : 'Registry'}`]);
  const run = startCli(c.entry, direction === 'export' ? buildArgs(c, ['--root', c.root], ['--cache-to', spec.to]) : importArgs, ENV);
  const { running, left } = await killAfter(run, ms);
  const failures: string[] = [];
  await c.check(direction === 'export' ? c.root : importRoot);
  const held = await blobFiles(importRoot);
  if (direction === 'export') {
    const next = await runBuild(c, buildArgs(c, ['--root', c.root], ['--cache-to', spec.to]));
    failures.push(...expectImage('the next export', next, c.baseline.image, true));
  }
  // The export the kill interrupted was written again: a build into an empty store takes every step from it.
  const imported = await runBuild(c, importArgs);
  failures.push(...expectImage('the next import', imported, c.baseline.image, true));
  if (direction === 'import') failures.push(...(await expectBlobsKept('the next import', importRoot, held)));
  return { label: `cache ${direction} (${type}), after ${ms} ms`, running, killedPid: run.child.pid ?? 0, left, failures };
}

/** killPrune runs `tbuild prune --all` while a build runs in another process, and kills one of them. */
async function killPrune(c: KillContext): Promise<KillOutcome> {
  const victim = pick(c.random, ['build', 'prune'] as const);
  const build = startCli(c.entry, buildArgs(c, ['--root', c.root], ['--no-cache']), ENV);
  const pruneAt = Math.floor(c.random() * c.baseline.ms.build * 0.6);
  await new Promise((resolvePromise) => setTimeout(resolvePromise, pruneAt));
  const prune = startCli(c.entry, ['prune', '--all', '--force', '--root', c.root]);
  const ms = upTo(c.random, victim === 'build' ? c.baseline.ms.build - pruneAt : c.baseline.ms.prune);
  const { running, left } = await killAfter(victim === 'build' ? build : prune, ms);
  const failures: string[] = [];
  // Collection takes nothing a live build uses: the one left running ends as it would alone.
  if (victim === 'prune') failures.push(...expectImage('the build beside the killed prune', await build.done, c.baseline.image, false));
  else if ((await prune.done).code !== 0) failures.push(`the prune beside the killed build failed: ${(await prune.done).stderr}`);
  await c.check(c.root);
  const next = await runBuild(c, buildArgs(c, ['--root', c.root]));
  failures.push(...expectImage('the next build', next, c.baseline.image, false));
  const pid = (victim === 'build' ? build : prune).child.pid ?? 0;
  return { label: `prune beside a build, ${victim} killed after ${pruneAt}+${ms} ms`, running, killedPid: pid, left, failures };
}

/** serveArgs start `tbuild serve` on the loop's store. */
export const serveArgs = (c: Pick<KillContext, 'workDir' | 'root' | 'config'>): { address: string; args: string[] } => {
  const address = `unix://${join(c.workDir, 'serve.sock')}`;
  return { address, args: ['--addr', address, '--root', c.root, '--config', c.config] };
};

export async function stopServe(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const exited = once(server, 'exit');
  server.kill('SIGTERM');
  await exited;
}

/** killServe kills `tbuild serve` while a build runs through it, then starts it again on the same store. */
async function killServe(c: KillContext): Promise<KillOutcome> {
  const variant = pick(c.random, ['--no-cache', 'cached'] as const);
  const { address, args } = serveArgs(c);
  const server = await startServe(c.entry, args);
  const exited = once(server, 'exit');
  const client = startCli(c.entry, buildArgs(c, ['--builder', address], variant === '--no-cache' ? ['--no-cache'] : []), ENV);
  let clientEnded = false;
  void client.done.finally(() => (clientEnded = true));
  const ms = upTo(c.random, variant === 'cached' ? c.baseline.ms.serve : c.baseline.ms.build);
  await new Promise((resolvePromise) => setTimeout(resolvePromise, ms));
  // The server runs until killed: the kill hits the work when the build through it has not ended.
  const running = !clientEnded;
  const { left } = await killAfter({ child: server, done: exited.then(([code, signal]: unknown[]) => ({ code: Number(code ?? 128), stdout: '', stderr: '', signal: (signal ?? null) as NodeJS.Signals | null })) }, 0);
  const ended = await client.done;
  // A build the server answered before it died made the clean image; one it did not fails, as its server went away.
  const failures = ended.code === 0 ? expectImage('the build through the killed server', ended, c.baseline.image, false) : [];
  await c.check(c.root);
  const again = await startServe(c.entry, args);
  try {
    const next = await runBuild(c, buildArgs(c, ['--builder', address]));
    failures.push(...expectImage('the next build through the restarted server', next, c.baseline.image, true));
  } finally {
    await stopServe(again);
  }
  return { label: `serve ${variant}, server killed after ${ms} ms (client exit ${ended.code})`, running, killedPid: server.pid ?? 0, left, failures };
}

export const KILLERS: Readonly<Record<FaultKind, (c: KillContext) => Promise<KillOutcome>>> = {
  build: killBuild,
  pull: killPull,
  push: killPush,
  cache: killCache,
  prune: killPrune,
  serve: killServe,
};
