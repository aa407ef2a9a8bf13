import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { errnoCode } from '../base/errors.js';
import { pathExists } from '../base/fs.js';
import { isRootless } from '../base/user-namespace.js';
import type { Controller, ControllerOptions } from '../controller/index.js';
import { handleTerminalHangup, isHangupError, type InterruptSignal } from './terminal-hangup.js';

/** TerminalStream is an output stream of a command, with the terminal facts progress rendering reads. */
export type TerminalStream = Writable & { readonly isTTY?: boolean; readonly columns?: number; readonly rows?: number };

/** Environment is a command's environment variables. */
export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * CommandIO is the process a command runs for, given explicitly: bin/tbuild.js passes this process's own, the resident
 * builder passes each launcher client's. Commands read their working folder, environment, umask and streams only here.
 */
export interface CommandIO {
  readonly cwd: string;
  readonly env: Environment;
  readonly umask: number;
  readonly stdin: Readable;
  readonly stdout: TerminalStream;
  readonly stderr: TerminalStream;
  /**
   * onInterrupt calls handler on SIGINT, SIGTERM or SIGHUP (the terminal closed), or the launcher's cancel, until the
   * returned handle is disposed.
   */
  onInterrupt(handler: () => void): Disposable;
  /**
   * Settles once the command's client has its exit status (a launcher served by the resident builder): work that need
   * not delay the answer, such as committing a build's history record, waits for it.
   */
  readonly answered?: Promise<unknown>;
  /** openController opens the controller of a state folder; disposing the lease lets it go (the resident builder keeps it). */
  openController(options: ControllerOptions): Promise<Controller & AsyncDisposable>;
}

/** CLOSED_PIPE_STATUS is the exit status when the reader of standard output went away: 128 + SIGPIPE. */
export const CLOSED_PIPE_STATUS = 141;

/** INTERRUPTS are the signals that cancel a command run by this process. */
const INTERRUPTS: readonly InterruptSignal[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** processIO is this process as a command's IO: what bin/tbuild.js runs a command line with. */
export function processIO(): CommandIO {
  // A reader that closed its end early (tbuild images | head -1) is no error of tbuild's: exit quietly with the status
  // a shell reports for a process that SIGPIPE ended (128 + 13), as other command-line tools do.
  process.stdout.on('error', (err) => {
    if (isHangupError(err)) return;
    if (errnoCode(err) !== 'EPIPE') throw err;
    process.exitCode = CLOSED_PIPE_STATUS;
  });
  // Output to a terminal that hung up is dropped; the command goes on until a signal stops it (see handleTerminalHangup).
  process.stderr.on('error', (err) => {
    if (!isHangupError(err)) throw err;
  });
  const hangup = handleTerminalHangup();
  return {
    cwd: process.cwd(),
    env: process.env,
    umask: process.umask(),
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    onInterrupt(handler) {
      // A closed terminal cancels as an interrupt does, so what the command started (containers of a runtime, a debug
      // shell) is stopped and removed instead of left behind by a process that SIGHUP ended.
      const listeners = INTERRUPTS.map((signal) => {
        const listener = (): void => {
          hangup.interrupted(signal);
          handler();
        };
        process.once(signal, listener);
        return { signal, listener };
      });
      return {
        [Symbol.dispose]: () => {
          for (const { signal, listener } of listeners) process.off(signal, listener);
        },
      };
    },
    async openController(options) {
      const { createController } = await import('../controller/index.js');
      return createController(options);
    },
  };
}

/**
 * isRoot tells whether this process runs as the host's root (state and settings then live under /var/lib and /etc),
 * not as root of a rootless user namespace, whose state is its user's.
 */
function isRoot(): boolean {
  return process.getuid?.() === 0 && !isRootless();
}

/** defaultRoot is where tbuild keeps its state: TBUILD_ROOT, /var/lib/tbuild as root, else under XDG_DATA_HOME. */
export function defaultRoot(env: Environment): string {
  const given = env['TBUILD_ROOT'];
  if (given !== undefined && given !== '') return given;
  if (isRoot()) return '/var/lib/tbuild';
  return join(env['XDG_DATA_HOME'] || join(env['HOME'] ?? homedir(), '.local', 'share'), 'tbuild');
}

/** defaultSettingsFile is the user's settings file: /etc/tbuild/tbuild.toml as root, else under XDG_CONFIG_HOME. */
export function defaultSettingsFile(env: Environment): string {
  if (isRoot()) return '/etc/tbuild/tbuild.toml';
  return join(env['XDG_CONFIG_HOME'] || join(env['HOME'] ?? homedir(), '.config'), 'tbuild', 'tbuild.toml');
}

/**
 * settingsFileOf is the settings file a command hands the controller: the one --config names (which must exist),
 * else the user's default file when there is one, else none.
 */
export async function settingsFileOf(env: Environment, given: string | undefined): Promise<string | undefined> {
  if (given !== undefined) return given;
  const file = defaultSettingsFile(env);
  return (await pathExists(file)) ? file : undefined;
}

/** dockerConfigDir is the folder of the caller's Docker config.json: DOCKER_CONFIG, else ~/.docker. */
export function dockerConfigDir(env: Environment): string {
  const given = env['DOCKER_CONFIG'];
  return given !== undefined && given !== '' ? given : join(env['HOME'] ?? homedir(), '.docker');
}

/** definedEnv drops unset variables, as a child process's environment holds only set ones. */
export function definedEnv(env: Environment): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}
