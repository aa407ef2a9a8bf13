import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { REPO_ROOT } from './cli.js';

/** ServeProcess is a `tbuild serve` running in the background for a test. */
export interface ServeProcess extends AsyncDisposable {
  readonly child: ChildProcess;
  /** Bound addresses as the server logged them (tcp ports resolved). */
  readonly addresses: readonly string[];
  log(): string;
  /** stop sends SIGTERM and waits for the exit code. */
  stop(): Promise<number | null>;
  /** kill sends SIGKILL and waits for the exit. */
  kill(): Promise<void>;
}

const START_TIMEOUT_MS = 30_000;

/**
 * startServe runs `node bin/tbuild.js serve ARGS` and waits until every --addr is listening; `env` adds to this
 * process's environment (a server HOME or DOCKER_CONFIG of its own), and `launcher` runs it through another command.
 */
export async function startServe(args: readonly string[], options: { env?: NodeJS.ProcessEnv; launcher?: readonly string[] } = {}): Promise<ServeProcess> {
  const expected = args.filter((a) => a === '--addr').length || 1;
  // A launcher is a command line the server's own is appended to (one that runs it elsewhere, as another user).
  const [file = process.execPath, ...prefix] = [...(options.launcher ?? []), process.execPath];
  const child = spawn(file, [...prefix, join(REPO_ROOT, 'bin', 'tbuild.js'), 'serve', '--log-format', 'json', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  const addresses: string[] = [];
  const exited = once(child, 'exit');
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tbuild serve did not listen within ${START_TIMEOUT_MS} ms: ${log}`)), START_TIMEOUT_MS);
    child.stderr?.on('data', (d: Buffer) => {
      log += d.toString();
      for (const line of d.toString().split('\n')) {
        if (!line.startsWith('{')) continue;
        const rec = JSON.parse(line) as { msg: string; addr?: string };
        if (rec.msg === 'listening' && rec.addr !== undefined) addresses.push(rec.addr);
      }
      if (addresses.length >= expected) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tbuild serve exited (${code}) before listening: ${log}`));
    });
  });
  const stop = async (): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    return code;
  };
  return {
    child,
    addresses,
    log: () => log,
    stop,
    kill: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
    [Symbol.asyncDispose]: async () => {
      await stop();
    },
  };
}

/** runServe runs `tbuild serve ARGS` expecting it to fail at start, and returns its exit code and log. */
export async function runServeExpectingFailure(args: readonly string[]): Promise<{ code: number | null; log: string }> {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'tbuild.js'), 'serve', ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, log };
}
