/**
 * What the store fault benchmarks (fault-loop.ts, soak.ts) share: running the CLI, and looking for what a build left
 * behind: its processes, mounts and cgroups, and the findings of `tbuild debug check-store`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

/** CliRun is what one command printed and returned. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** RunningCli is a command started in the background: its process, and what it printed and returned once it ends. */
export interface RunningCli {
  readonly child: ChildProcess;
  /** Resolves when the process ends; `signal` names the signal that ended it, if one did. */
  readonly done: Promise<CliRun & { readonly signal: NodeJS.Signals | null }>;
}

/** startCli starts `node ENTRY ARGS`, collecting its output. */
export function startCli(entry: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): RunningCli {
  const child = spawn(process.execPath, [entry, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const done = new Promise<CliRun & { signal: NodeJS.Signals | null }>((resolvePromise, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code: code ?? (signal === null ? -1 : 128), stdout, stderr, signal }));
  });
  return { child, done };
}

/** runCli runs `node ENTRY ARGS` to its end. */
export async function runCli(entry: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return startCli(entry, args, env).done;
}

/**
 * killAfter sends SIGKILL to a started command after `ms` and waits for it to end; it reports whether the kill hit it
 * running and the processes below it still running 5 s later (none should be: each dies with its parent).
 */
export async function killAfter(run: RunningCli, ms: number): Promise<{ readonly running: boolean; readonly left: string[] }> {
  await delay(ms);
  const below = await descendants(run.child.pid ?? 0);
  run.child.kill('SIGKILL');
  const { signal } = await run.done;
  return { running: signal === 'SIGKILL', left: await survivors(below, 5000) };
}

/** startServe runs `tbuild serve ARGS` and waits until it listens. */
export async function startServe(entry: string, args: readonly string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, [entry, 'serve', '--log-format', 'json', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolvePromise, reject) => {
    let log = '';
    child.stderr?.on('data', (d: Buffer) => {
      log += d.toString();
      if (log.includes('"listening"')) resolvePromise();
    });
    child.once('exit', (code) => reject(new Error(`tbuild serve exited (${code}) before listening: ${log}`)));
  });
  return child;
}

/** imageOf reads the image ID a build printed with `--progress plain` ("Image sha256:..."). */
export function imageOf(run: CliRun): string | undefined {
  return /^Image (sha256:[0-9a-f]{64})/m.exec(run.stderr)?.[1];
}

/** uncachedSteps names the COPY and RUN steps of a build's plain progress that ran instead of coming from the cache. */
export function uncachedSteps(stderr: string): string[] {
  const steps = [...stderr.matchAll(/^#(\d+) (\[\d+\/\d+\] (?:COPY|RUN|ADD) .*)$/gm)];
  return steps.filter(([, n]) => !new RegExp(`^#${n} CACHED$`, 'm').test(stderr)).map(([, , name]) => name ?? '');
}

/** prng is a small deterministic generator, so a schedule of faults can be replayed from its seed. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** ProcessTable maps each pid to its parent and start time (field 22 of /proc/<pid>/stat: a reused pid has another). */
type ProcessTable = Map<number, { readonly ppid: number; readonly start: string }>;

async function readProcesses(): Promise<ProcessTable> {
  const table: ProcessTable = new Map();
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch((err: unknown) => {
      // A process that ended while the table was read.
      if (err instanceof Error && 'code' in err && (err.code === 'ENOENT' || err.code === 'ESRCH')) return undefined;
      throw err;
    });
    if (stat === undefined) continue;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    table.set(Number(name), { ppid: Number(fields[1]), start: fields[19] ?? '' });
  }
  return table;
}

/** descendants lists the processes below `pid` (not itself), each with its start time. */
export async function descendants(pid: number): Promise<Map<number, string>> {
  const table = await readProcesses();
  const out = new Map<number, string>();
  const below = (parent: number): void => {
    for (const [p, info] of table) {
      if (info.ppid === parent && !out.has(p)) {
        out.set(p, info.start);
        below(p);
      }
    }
  };
  below(pid);
  return out;
}

/** survivors waits up to `waitMs` for the processes to end and returns those still running (same pid, same start). */
export async function survivors(processes: ReadonlyMap<number, string>, waitMs: number): Promise<string[]> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const table = await readProcesses();
    const left = [...processes].filter(([pid, start]) => table.get(pid)?.start === start);
    if (left.length === 0 || Date.now() > deadline) {
      return Promise.all(left.map(async ([pid]) => `${pid} ${(await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '?')).replaceAll('\0', ' ').trim()}`));
    }
    await delay(100);
  }
}

/** mountsUnder lists the mounts of this mount namespace under `dir`. */
export async function mountsUnder(dir: string): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  return info.split('\n').filter((line) => line.split(' ')[4]?.startsWith(dir) === true);
}

/** cgroupsOf lists the RUN cgroups (`<pid>-*` in tbuild's folder of this process's cgroup, in each hierarchy) of a process. */
export async function cgroupsOf(pid: number): Promise<string[]> {
  const out: string[] = [];
  for (const line of (await readFile('/proc/self/cgroup', 'utf8')).split('\n')) {
    const [, controllers, path] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
    if (controllers === undefined || path === undefined) continue;
    const mounts = controllers === '' ? ['unified', '.'] : controllers.replace(/^name=/, '').split(',');
    for (const mount of mounts) {
      const dir = join('/sys/fs/cgroup', mount, path, 'tbuild');
      const names = await readdir(dir).catch(() => [] as string[]);
      out.push(...names.filter((n) => n.startsWith(`${pid}-`)).map((n) => join(dir, n)));
    }
  }
  return [...new Set(out)];
}

/** StoreEntry is one finding of `tbuild debug check-store --format json`. */
export interface StoreEntry {
  readonly kind: string;
  readonly path?: string;
  readonly key?: string;
  readonly detail: string;
  readonly removed: boolean;
}

/**
 * RECLAIMABLE are the findings a killed process may leave: what it was writing, and what only its lease kept. Any
 * other finding (a record naming what is gone, a blob whose bytes do not match) is damage.
 */
export const RECLAIMABLE: ReadonlySet<string> = new Set(['stale-lease', 'stale-ingest', 'stale-active-snapshot', 'stale-temp', 'orphan-snapshot-folder', 'unreferenced-snapshot']);

/** checkStore runs `tbuild debug check-store --format json` (with `extra` options) on a root. */
export async function checkStore(entry: string, root: string, ...extra: string[]): Promise<{ code: number; entries: StoreEntry[]; stderr: string }> {
  const r = await runCli(entry, ['debug', 'check-store', '--root', root, '--format', 'json', ...extra]);
  if (r.code !== 0 && r.code !== 1) throw new Error(`tbuild debug check-store failed (exit ${r.code}): ${r.stderr}`);
  return { code: r.code, entries: JSON.parse(r.stdout) as StoreEntry[], stderr: r.stderr };
}

/** countKinds counts findings by kind, for a report. */
export function countKinds(entries: readonly StoreEntry[], into: Map<string, number>): void {
  for (const e of entries) into.set(e.kind, (into.get(e.kind) ?? 0) + 1);
}
