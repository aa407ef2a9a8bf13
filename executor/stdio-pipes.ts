import type { ChildProcess } from 'node:child_process';
import { close } from 'node:fs';
import { Socket } from 'node:net';
import { finished } from 'node:stream/promises';
import { promisify } from 'node:util';
import { O_CLOEXEC, pipe2 } from '../native/index.js';
import { waitForClose, type ChildExit } from './child-process.js';
import type { ExecRequest } from './types.js';

const closeFd = promisify(close);

/** OUTPUT_TAIL_CHUNKS is how many of the last stderr chunks a ProcessStdio keeps for error messages. */
const OUTPUT_TAIL_CHUNKS = 16;

/**
 * ProcessStdio is the stdin, stdout and stderr of a sandboxed process as pipes, which is what BuildKit's RUN gets (Go's
 * os/exec hands runc pipes). Node's own 'pipe' stdio are socket pairs, and a socket cannot be reopened through
 * /dev/stdout or /dev/stderr (ENXIO), which breaks `echo x > /dev/stderr` and programs logging to /dev/stderr.
 */
export interface ProcessStdio extends AsyncDisposable {
  /** For spawn's stdio: stdin's read end (whose write end is closed, so reads see EOF), stdout's and stderr's write ends. */
  readonly childFds: readonly [number, number, number];
  /** The last stderr chunks, for runtimes that report their own errors there. */
  readonly stderrTail: readonly Buffer[];
  /**
   * waitForChild, called right after spawning the child with childFds, closes this process's copies of them (so EOF
   * comes when the child's side is gone), then resolves once the child closed and all its output went to onOutput.
   * `afterExit` runs between the two: it must end whatever else still holds the pipes (a runtime's container).
   */
  waitForChild(child: ChildProcess, options?: { afterExit?: () => Promise<void> }): Promise<ChildExit>;
}

async function closeAll(fds: readonly number[]): Promise<void> {
  for (const fd of fds) await closeFd(fd);
}

type Pipe = readonly [read: number, write: number];

/** openPipes creates three pipes, closing those it made when one fails. */
async function openPipes(): Promise<readonly [Pipe, Pipe, Pipe]> {
  const opened: number[] = [];
  const open = (): Pipe => {
    // Close-on-exec: spawn dup2s the child's ends onto 0-2 (which clears the flag there), and no other child inherits them.
    const p = pipe2(O_CLOEXEC);
    opened.push(...p);
    return p;
  };
  try {
    return [open(), open(), open()];
  } catch (err) {
    await closeAll(opened);
    throw err;
  }
}

/** openProcessStdio creates the three pipes and forwards stdout and stderr to onOutput as data arrives. */
export async function openProcessStdio(onOutput: ExecRequest['onOutput']): Promise<ProcessStdio> {
  const [[stdinRead, stdinWrite], [stdoutRead, stdoutWrite], [stderrRead, stderrWrite]] = await openPipes();
  // Nothing is ever written to stdin: the process reads EOF, as a RUN does in BuildKit.
  await closeFd(stdinWrite);
  const tail: Buffer[] = [];
  const stdout = new Socket({ fd: stdoutRead, readable: true, writable: false });
  const stderr = new Socket({ fd: stderrRead, readable: true, writable: false });
  stdout.on('data', (data: Buffer) => onOutput?.('stdout', data));
  stderr.on('data', (data: Buffer) => {
    onOutput?.('stderr', data);
    tail.push(data);
    if (tail.length > OUTPUT_TAIL_CHUNKS) tail.shift();
  });
  let released: Promise<void> | undefined;
  const releaseChildEnds = (): Promise<void> => (released ??= closeAll([stdinRead, stdoutWrite, stderrWrite]));
  return {
    childFds: [stdinRead, stdoutWrite, stderrWrite],
    stderrTail: tail,
    waitForChild: async (child, options) => {
      const [exit] = await Promise.all([waitForClose(child), releaseChildEnds()]);
      await options?.afterExit?.();
      await Promise.all([finished(stdout), finished(stderr)]);
      return exit;
    },
    [Symbol.asyncDispose]: async () => {
      stdout.destroy();
      stderr.destroy();
      await releaseChildEnds();
    },
  };
}
