import { close } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { ReadStream } from 'node:tty';
import { promisify } from 'node:util';
import { errnoCode } from '../base/errors.js';
import { openPty, setWindowSize } from '../native/index.js';
import { waitForClose } from './child-process.js';
import { openProcessStdio, type ProcessStdio } from './stdio-pipes.js';
import type { ExecRequest } from './types.js';

const closeFd = promisify(close);

/** TerminalSize is a terminal's size in character cells. */
export interface TerminalSize {
  readonly columns: number;
  readonly rows: number;
}

/**
 * ExecTerminal is the user's terminal an interactive process is attached to: its keystrokes (already in raw mode, so
 * Ctrl-C arrives as a byte for the process, not as a signal to tbuild), where its output goes, and its size.
 */
export interface ExecTerminal {
  readonly input: Readable;
  readonly output: Writable;
  size(): TerminalSize;
  /** onResize calls the listener with each new size; the returned function removes it. */
  onResize(listener: (size: TerminalSize) => void): () => void;
}

/** isPtyEnd tells whether a master's read error only means the slave side is closed (Linux reports EIO). */
function isPtyEnd(err: unknown): boolean {
  return errnoCode(err) === 'EIO';
}

/**
 * openTerminalStdio gives a process a pty sized as the user's terminal as its stdin, stdout and stderr, and relays
 * both ways: keystrokes to the master, what the process writes back out. Resizes set the pty's size (the kernel sends
 * SIGWINCH to the process's foreground group) and then call `resized`, for a runtime (runc, crun) that copies between
 * this pty and a pty of its own and needs its own SIGWINCH to pass the size on.
 */
export function openTerminalStdio(terminal: ExecTerminal, options: { resized?: () => void } = {}): ProcessStdio {
  const pty = openPty();
  let slaveOpen = true;
  const closeSlave = async (): Promise<void> => {
    if (!slaveOpen) return;
    slaveOpen = false;
    await closeFd(pty.slave);
  };
  setWindowSize(pty.master, terminal.size());
  // A tty handle reads and writes the master without blocking a thread; it owns the descriptor from here on.
  const master = new ReadStream(pty.master);
  const drained = new Promise<void>((resolve) => {
    master.once('end', resolve);
    master.once('close', resolve);
    master.on('error', (err) => {
      if (!isPtyEnd(err)) terminal.output.write(`\r\ntbuild: cannot relay the terminal: ${err.message}\r\n`);
      resolve();
    });
  });
  master.on('data', (data: Buffer) => terminal.output.write(data));
  const keystroke = (data: Buffer): void => void master.write(data);
  terminal.input.on('data', keystroke);
  terminal.input.resume();
  const stopResize = terminal.onResize((size) => {
    if (master.destroyed) return;
    setWindowSize(pty.master, size);
    options.resized?.();
  });
  return {
    childFds: [pty.slave, pty.slave, pty.slave],
    stderrTail: [],
    waitForChild: async (child, waitOptions) => {
      // The child has its own copies now: the master reads EIO once the last process holding the slave is gone.
      const [exit] = await Promise.all([waitForClose(child), closeSlave()]);
      await waitOptions?.afterExit?.();
      await drained;
      return exit;
    },
    [Symbol.asyncDispose]: async () => {
      stopResize();
      terminal.input.off('data', keystroke);
      terminal.input.pause();
      master.destroy();
      await closeSlave();
    },
  };
}

/** openExecStdio opens what a request's process gets as stdio: the user's terminal through a pty, or else pipes. */
export async function openExecStdio(request: Pick<ExecRequest, 'onOutput' | 'terminal'>, options: { resized?: () => void } = {}): Promise<ProcessStdio> {
  return request.terminal === undefined ? openProcessStdio(request.onOutput) : openTerminalStdio(request.terminal, options);
}
