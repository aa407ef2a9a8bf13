/**
 * The store soak: N builds through one `tbuild serve` (a long-lived builder, whose leaks would pile up) from C clients
 * at once (default 8), each cycling through a cached build, a build with a changed file, a failing build and a build
 * cancelled midway (the client gets SIGINT once its RUN runs), with a prune of everything every 100 builds that runs
 * while the other clients build. Builds go in rounds of 50; after each round (and at the end) it removes the images
 * changed builds left without a name, prunes to 20 MB and records the store's size after a prune, the builder's
 * resident memory (RSS), open file descriptors, processes and the mounts under the work folder, and checks the store;
 * it fails when the store's size after a prune grows from the first checkpoint on, when the builder's RSS or
 * descriptors grow more than 10% over those after the first 100 builds (the warm-up), when a mount or extra process stays,
 * or when check-store finds anything. Usage, as root, with the loopback registry serving busybox:
 * With --resident the builds go through the launcher (native/build/tbuild) to a resident builder (`tbuild daemon`)
 * instead, and its RSS and descriptors are measured; prunes then run in processes of their own beside it.
 *   node dist/bench/soak.js [--builds N] [--clients C] [--minutes M] [--resident] [--registry HOST]   (or bench/soak.sh N)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { checkStore, descendants, mountsUnder, runCli, startServe } from './store-probe.js';

/** Checkpoint is the state of the builder and store after a prune, every few builds. */
interface Checkpoint {
  readonly builds: number;
  readonly storeBytes: number;
  readonly fds: number;
  /** What the descriptors point at, by kind (socket, pipe, anon_inode:..., or the path), to name what grew. */
  readonly fdKinds: ReadonlyMap<string, number>;
  readonly rssBytes: number;
  readonly processes: number;
  readonly mounts: number;
  readonly findings: number;
}

const KINDS = ['cached', 'changed', 'failing', 'cancelled'] as const;

async function sizeOf(dir: string): Promise<number> {
  const out = await new Promise<string>((resolvePromise, reject) => {
    const child = spawn('du', ['-sb', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.on('error', reject);
    child.on('close', () => resolvePromise(text));
  });
  return Number(out.split('\t')[0]);
}

/** Client is how a build is started: `node bin/tbuild.js` (through tbuild serve) or the launcher (to the resident builder). */
interface Client {
  readonly command: string;
  readonly prefix: readonly string[];
  readonly env: NodeJS.ProcessEnv;
}

function startClient(client: Client, args: readonly string[], stderr: 'ignore' | 'pipe'): ChildProcess {
  return spawn(client.command, [...client.prefix, ...args], { env: { ...process.env, ...client.env }, stdio: ['ignore', 'ignore', stderr] });
}

/** runClient runs a build to its end and returns its exit status. */
async function runClient(client: Client, args: readonly string[]): Promise<number> {
  const [code, signal] = (await once(startClient(client, args, 'ignore'), 'close')) as [number | null, string | null];
  return code ?? (signal === null ? -1 : 128);
}

/** cancelledBuild starts a build and interrupts its client once its RUN step runs; it returns the client's exit status. */
async function cancelledBuild(client: Client, args: readonly string[]): Promise<number> {
  const child = startClient(client, args, 'pipe');
  const closed = once(child, 'close');
  let timer: NodeJS.Timeout | undefined;
  let output = '';
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
    if (timer === undefined && /RUN echo/.test(output)) timer = setTimeout(() => child.kill('SIGINT'), 300);
  });
  const [code, signal] = (await closed) as [number | null, string | null];
  clearTimeout(timer);
  return code ?? (signal === null ? -1 : 128);
}

/** startResident runs the resident builder (`tbuild daemon`) on a socket of the soak's, as the launcher would. */
async function startResident(entry: string, socket: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [entry, 'daemon', '--socket', socket], { env: { ...process.env, TBUILD_DAEMON_IDLE: '7200' }, stdio: 'ignore' });
  for (let i = 0; !existsSync(socket); i++) {
    if (i === 200 || child.exitCode !== null) throw new Error(`The resident builder did not listen on ${socket}`);
    await delay(50);
  }
  return child;
}

/** descriptorKinds counts a process's open descriptors by what they point at (a socket or pipe by its kind, else the path). */
async function descriptorKinds(pid: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => 'closed while read');
    const kind = target.replace(/:\[\d+\]$/, '');
    out.set(kind, (out.get(kind) ?? 0) + 1);
  }
  return out;
}

/** grown names the kinds of descriptors there are more of in `later` than in `first`. */
function grown(first: ReadonlyMap<string, number>, later: ReadonlyMap<string, number>): string {
  return [...later].filter(([k, n]) => n > (first.get(k) ?? 0)).map(([k, n]) => `${k} ${first.get(k) ?? 0} -> ${n}`).join(', ');
}

/** rssOf reads a process's resident memory (VmRSS in /proc/<pid>/status), in bytes. */
async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`Cannot read the resident memory of process ${pid}: no VmRSS in its status`);
  return Number(kb) * 1024;
}

/** writeContext writes one client's build context: its own files, so a change in one leaves the others cached. */
async function writeContext(ctx: string): Promise<void> {
  await mkdir(join(ctx, 'src'), { recursive: true });
  for (let i = 0; i < 20; i++) await writeFile(join(ctx, 'src', `f${i}.txt`), `file ${i}\n`);
  await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nCOPY src/ /src/\nRUN cat /src/*.txt | wc -c > /count && dd if=/dev/urandom of=/random bs=1k count=512 2>/dev/null\n');
  await writeFile(join(ctx, 'Dockerfile.fail'), 'FROM busybox\nCOPY src/ /src/\nRUN echo failing && exit 3\n');
  await writeFile(join(ctx, 'Dockerfile.slow'), 'FROM busybox\nCOPY src/ /src/\nARG N\nRUN echo $N && sleep 3\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { resident: { type: 'boolean', default: false }, builds: { type: 'string', default: '500' }, clients: { type: 'string', default: '8' }, minutes: { type: 'string', default: '30' }, registry: { type: 'string', default: '127.0.0.1:5000' } } });
  const entry = join(resolve(import.meta.dirname, '..', '..'), 'bin', 'tbuild.js');
  const work = await mkdtemp(join(tmpdir(), 'tbuild-soak-'));
  const root = join(work, 'root');
  const config = join(work, 'tbuild.toml');
  const clients = Number(values.clients);
  await writeFile(config, `[registry."docker.io"]\nmirrors = ["${values.registry}"]\n`);
  const contexts = Array.from({ length: clients }, (_, i) => join(work, `ctx${i}`));
  for (const ctx of contexts) await writeContext(ctx);
  const resident = values.resident === true;
  const address = `unix://${join(work, 'serve.sock')}`;
  const socket = join(work, 'daemon', 'daemon.sock');
  const server = resident ? await startResident(entry, socket) : await startServe(entry, ['--addr', address, '--root', root, '--config', config]);
  const serverPid = server.pid ?? 0;
  const launcher = join(resolve(import.meta.dirname, '..', '..'), 'native', 'build', 'tbuild');
  const client: Client = resident ? { command: launcher, prefix: [], env: { TBUILD_DAEMON_SOCKET: socket } } : { command: process.execPath, prefix: [entry], env: {} };
  // Builds go to the builder; collection runs in a process of its own beside the resident builder, as `tbuild prune` does.
  const target = resident ? ['--root', root, '--config', config] : ['--builder', address];
  const started = Date.now();
  const deadline = started + Number(values.minutes) * 60_000;
  const failures: string[] = [];
  const checkpoints: Checkpoint[] = [];
  const outcomes = new Map<string, number>();
  const build = (...args: string[]): string[] => ['build', ...target, '--progress', 'quiet', ...args];
  const checkpoint = async (builds: number): Promise<void> => {
    // The images a changed build's tag left without a name are kept, as Docker keeps them, until removed.
    const dangling = (await runCli(entry, ['images', '--root', root, '--filter', 'dangling=true', '--quiet', '--no-trunc'])).stdout.split('\n').filter((id) => id !== '');
    if (dangling.length > 0) await runCli(entry, ['rmi', '--root', root, ...dangling]);
    await runCli(entry, ['prune', '--keep-storage', '20MB', '--force', ...target.slice(0, 2)]);
    const found = await checkStore(entry, root);
    if (found.entries.length > 0) failures.push(`after ${builds} builds check-store found: ${JSON.stringify(found.entries)}`);
    const fdKinds = await descriptorKinds(serverPid);
    const fds = [...fdKinds.values()].reduce((a, b) => a + b, 0);
    const c = { builds, storeBytes: await sizeOf(root), fds, fdKinds, rssBytes: await rssOf(serverPid), processes: (await descendants(serverPid)).size, mounts: (await mountsUnder(work)).length, findings: found.entries.length };
    checkpoints.push(c);
    console.log(`after ${builds} builds (${((Date.now() - started) / 60_000).toFixed(1)} min): store ${(c.storeBytes / 1e6).toFixed(1)} MB, builder RSS ${(c.rssBytes / 2 ** 20).toFixed(1)} MiB, fds ${c.fds}, processes ${c.processes}, mounts ${c.mounts}, findings ${c.findings}`);
  };
  /** runOne runs build number `n` (0-based) from client `client`: its kind follows the client's own turn. */
  const runOne = async (n: number, who: number, turn: number): Promise<void> => {
    const ctx = contexts[who] ?? '';
    const kind = KINDS[(turn + who) % KINDS.length] ?? 'cached';
    let code: number;
    if (kind === 'changed') await writeFile(join(ctx, 'src', `f${turn % 20}.txt`), `file ${turn % 20} changed at build ${n}\n`);
    if (kind === 'cancelled') code = await cancelledBuild(client, [...build('-f', join(ctx, 'Dockerfile.slow'), '--build-arg', `N=${n}`, ctx), '--progress', 'plain']);
    else code = await runClient(client, kind === 'failing' ? build('-f', join(ctx, 'Dockerfile.fail'), ctx) : build('-t', `soak:c${who}`, ctx));
    const want = kind === 'failing' ? 1 : kind === 'cancelled' ? 130 : 0;
    outcomes.set(`${kind} exit ${code}`, (outcomes.get(`${kind} exit ${code}`) ?? 0) + 1);
    if (code !== want) failures.push(`build ${n + 1} (${kind}, client ${who}) exited ${code}, expected ${want}`);
  };
  const total = Number(values.builds);
  const turns = new Array<number>(clients).fill(0);
  let n = 0;
  try {
    await checkpoint(0);
    while (n < total && Date.now() < deadline) {
      const roundEnd = Math.min(total, n + 50);
      const prunes: Promise<unknown>[] = [];
      const worker = async (client: number): Promise<void> => {
        while (n < roundEnd && Date.now() < deadline) {
          const k = n++;
          // A prune of everything while the other clients build: collection must leave what they use.
          if (k % 100 === 75) prunes.push(runCli(entry, ['prune', '--all', '--force', ...target.slice(0, 2)]));
          const turn = turns[client] ?? 0;
          turns[client] = turn + 1;
          await runOne(k, client, turn);
        }
      };
      await Promise.all(Array.from({ length: clients }, (_, client) => worker(client)));
      await Promise.all(prunes);
      await checkpoint(n);
    }
  } finally {
    server.kill('SIGTERM');
    await once(server, 'exit');
  }
  const after = await checkStore(entry, root, '--all-blobs');
  if (after.entries.length > 0) failures.push(`check-store after the builder stopped found: ${JSON.stringify(after.entries)}`);
  const mounts = await mountsUnder(work);
  if (mounts.length > 0) failures.push(`mounts left: ${mounts.join('; ')}`);
  // The first 100 builds warm the builder up (code optimised, the heap and connection pools grown to their working
  // size, a prune of everything done): growth is measured from the checkpoint after them.
  const [first, ...rest] = checkpoints.filter((c) => c.builds >= Math.min(100, n));
  for (const c of rest) {
    if (first === undefined) break;
    if (c.storeBytes > first.storeBytes * 1.5 + 5e6) failures.push(`the store grew: ${first.storeBytes} bytes after ${first.builds} builds, ${c.storeBytes} after ${c.builds}`);
    if (c.fds > first.fds * 1.1) failures.push(`the builder's descriptors grew more than 10%: ${first.fds} after ${first.builds} builds, ${c.fds} after ${c.builds} (${grown(first.fdKinds, c.fdKinds)})`);
    if (c.rssBytes > first.rssBytes * 1.1) failures.push(`the builder's RSS grew more than 10%: ${first.rssBytes} bytes after ${first.builds} builds, ${c.rssBytes} after ${c.builds}`);
    if (c.processes > first.processes + 4) failures.push(`the builder's processes grew: ${first.processes} after ${first.builds} builds, ${c.processes} after ${c.builds}`);
  }
  console.log(`\n${n} builds from ${clients} clients in ${((Date.now() - started) / 60_000).toFixed(1)} min: ${[...outcomes].map(([k, v]) => `${k}: ${v}`).join(', ')}`);
  console.log(failures.length === 0 ? 'store size and builder RSS and descriptors bounded, check-store clean, no mounts or processes left' : `FAILURES (${failures.length}):\n${failures.join('\n')}`);
  process.exitCode = failures.length === 0 ? 0 : 1;
  await rm(work, { recursive: true, force: true });
}

await main();
