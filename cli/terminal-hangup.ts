import { closeSync } from 'node:fs';
import { isatty } from 'node:tty';
import { errnoCode } from '../base/errors.js';

/** InterruptSignal is a signal that cancels the command this process runs. */
export type InterruptSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';

/** TerminalHangup is told the interrupts the command saw, to end the process by one of them once its terminal is gone. */
export interface TerminalHangup {
  interrupted(signal: InterruptSignal): void;
}

// Which interrupt the process ends by when several came: a SIGTERM (a request to terminate, from a supervisor or a
// session ending) over the hangup it may follow, and a hangup over a Ctrl-C. Two that come at once have no order.
const PRECEDENCE: readonly InterruptSignal[] = ['SIGTERM', 'SIGHUP', 'SIGINT'];

/**
 * handleTerminalHangup makes this process end cleanly once its terminal is gone (a closed window, a killed tmux
 * session). Node's exit restores the settings of the terminal its standard streams were, and aborts (SIGABRT) when
 * that fails, as it does on a terminal that hung up. So a process an interrupt stopped (SIGHUP, or a SIGTERM with it)
 * cleans up, then ends by that signal (SIGTERM first), as it would have at once; one that no signal stopped closes
 * the dead descriptors before Node's exit, which then leaves them alone, and ends with its own status.
 */
export function handleTerminalHangup(): TerminalHangup {
  const terminals = [0, 1, 2].filter((fd) => isatty(fd));
  const seen = new Set<InterruptSignal>();
  // Until the command listens, a hangup is only noted: the process ends by it after its cleanup.
  process.once('SIGHUP', () => seen.add('SIGHUP'));
  process.once('exit', () => {
    const dead = terminals.filter((fd) => !isatty(fd));
    const signal = PRECEDENCE.find((s) => seen.has(s));
    if (signal !== undefined && (seen.has('SIGHUP') || dead.length > 0)) {
      // Without listeners the signal has its default action (libuv restores it), which skips Node's exit.
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
      return;
    }
    for (const fd of dead) closeDead(fd);
  });
  return {
    interrupted(signal) {
      seen.add(signal);
    },
  };
}

/** closeDead closes a descriptor of a terminal that hung up; one closed already is what was wanted. */
function closeDead(fd: number): void {
  try {
    closeSync(fd);
  } catch (err) {
    if (errnoCode(err) !== 'EBADF') throw err;
  }
}

/** isHangupError tells whether a write failed because the terminal it went to hung up (EIO): nobody can read it. */
export function isHangupError(err: unknown): boolean {
  return errnoCode(err) === 'EIO';
}
