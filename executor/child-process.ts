import type { ChildProcess } from 'node:child_process';
import { Socket } from 'node:net';
import { errnoCode } from '../base/errors.js';

/** ChildExit is how a spawned process ended. */
export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** waitForClose resolves once the child exited and its stdio streams closed. */
export function waitForClose(child: ChildProcess): Promise<ChildExit> {
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
}

/**
 * holdChild makes this process wait for a child before it exits (keep), or not: the child and those of its pipes
 * (by descriptor number) that are sockets are ref'd or unref'd.
 */
export function holdChild(child: ChildProcess, keep: boolean, fds: readonly number[]): void {
  if (keep) child.ref();
  else child.unref();
  for (const fd of fds) {
    const stream = child.stdio[fd];
    if (!(stream instanceof Socket)) continue;
    if (keep) stream.ref();
    else stream.unref();
  }
}

/** killPid sends SIGKILL to a process that may already be gone. */
export function killPid(pid: number): void {
  signalPid(pid, 'SIGKILL');
}

/** signalPid sends a signal to a process that may already be gone. */
export function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (err) {
    if (errnoCode(err) !== 'ESRCH') throw err;
  }
}
