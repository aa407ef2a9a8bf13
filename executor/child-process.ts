import type { ChildProcess } from 'node:child_process';
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
