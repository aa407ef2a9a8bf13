import { spawn } from 'node:child_process';
import { cp, mkdir, readFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode } from '../../base/errors.js';
import { REPO_ROOT, type CliResult } from './cli.js';

/**
 * copyBuiltTree copies what the launcher and the resident builder run (bin/, the bundle, package.json, the launcher
 * and the sandbox helper; node_modules linked) into dest, so a test can change "the build output" without touching
 * the checkout, and others rebuilding the checkout do not make the test's resident builder stale.
 */
export async function copyBuiltTree(dest: string): Promise<{ launcher: string; entry: string }> {
  await mkdir(join(dest, 'native', 'build'), { recursive: true });
  await cp(join(REPO_ROOT, 'bin'), join(dest, 'bin'), { recursive: true });
  await cp(join(REPO_ROOT, 'dist', 'bundle'), join(dest, 'dist', 'bundle'), { recursive: true });
  await cp(join(REPO_ROOT, 'package.json'), join(dest, 'package.json'));
  for (const file of ['tbuild', 'tbuild-sandbox', 'tbuild-watch']) await cp(join(REPO_ROOT, 'native', 'build', file), join(dest, 'native', 'build', file));
  await symlink(join(REPO_ROOT, 'node_modules'), join(dest, 'node_modules'));
  return { launcher: join(dest, 'native', 'build', 'tbuild'), entry: join(dest, 'bin', 'tbuild.js') };
}

/** RunningCommand is a command started in the background. */
export interface RunningCommand {
  /** Settles once stderr has shown marker (rejects if the command ends first). */
  readonly shown: (marker: string) => Promise<void>;
  readonly done: Promise<CliResult & { readonly ms: number }>;
  readonly kill: (signal: NodeJS.Signals) => void;
  /** The command's process id (undefined when it could not start). */
  readonly pid: number | undefined;
}

/** startCommand runs a program with arguments, collecting its output. */
export function startCommand(file: string, args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv }): RunningCommand {
  const began = Date.now();
  const child = spawn(file, [...args], { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: (() => void)[] = [];
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    for (const w of waiters) w();
  });
  const done = new Promise<CliResult & { ms: number }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr, ms: Date.now() - began }));
  });
  const shown = (marker: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => void (stderr.includes(marker) && resolve());
      waiters.push(check);
      check();
      done.then(() => reject(new Error(`the command ended before printing "${marker}": ${stderr}`)), reject);
    });
  return { shown, done, kill: (signal) => child.kill(signal), pid: child.pid };
}

/** waitFor polls check until it holds. */
export async function waitFor(check: () => Promise<boolean> | boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** readDaemonLog returns the resident builder's log beside its socket ('' before one started). */
export async function readDaemonLog(socketDir: string): Promise<string> {
  try {
    return await readFile(join(socketDir, 'daemon.log'), 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return '';
    throw err;
  }
}

/** daemonPids lists the pids of the resident builders a log says started, oldest first. */
export function daemonPids(log: string): number[] {
  return [...log.matchAll(/resident builder started pid=(\d+)/g)].map((m) => Number(m[1]));
}

/** isAlive tells whether a process runs (a zombie waiting for its parent to reap it counts as gone). */
export async function isAlive(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
  }
}

/** liveDaemonPid returns the pid of the last resident builder a log says started, if it runs and has not begun to stop. */
export async function liveDaemonPid(log: string): Promise<number | undefined> {
  const last = daemonPids(log).at(-1);
  if (last === undefined || new RegExp(`stopping .*pid=${last}$`, 'm').test(log)) return undefined;
  return (await isAlive(last)) ? last : undefined;
}
