import type { Socket } from 'node:net';
import { finished } from 'node:stream/promises';
import { Readable, Writable } from 'node:stream';
import { encodeFrame, FRAME, type FrameType } from './daemon-frames.js';
import type { CommandIO } from './command-io.js';
import type { ClientStream, DaemonRequest } from './daemon-request.js';

/** ClientOutput is a launcher client's stdout or stderr: it frames what a command writes to the launcher. */
type ClientOutput = Writable & { isTTY: boolean; columns: number; rows: number };

function createClientOutput(socket: Socket, type: FrameType, facts: ClientStream): ClientOutput {
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      // Once the launcher is gone the build is being cancelled (see daemon-session.ts): its output goes nowhere.
      if (!socket.writable) return callback();
      socket.write(encodeFrame(type, chunk), () => callback());
    },
  });
  return Object.assign(stream, { isTTY: facts.tty, columns: facts.columns || 80, rows: facts.rows || 24 });
}

/** ClientOutputs are the launcher's stdout and stderr, as streams of this process. */
export interface ClientOutputs {
  readonly stdout: ClientOutput;
  readonly stderr: ClientOutput;
  /** resize applies a resize frame (the launcher's terminal changed size), as a tty.WriteStream would. */
  resize(payload: Buffer): void;
}

/** createClientOutputs makes the streams that carry a build's output to the launcher over its socket. */
export function createClientOutputs(socket: Socket, request: DaemonRequest): ClientOutputs {
  const stdout = createClientOutput(socket, FRAME.stdout, request.stdout);
  const stderr = createClientOutput(socket, FRAME.stderr, request.stderr);
  return {
    stdout,
    stderr,
    resize(payload) {
      if (payload.length !== 8) return;
      for (const [stream, at] of [[stdout, 0], [stderr, 4]] as const) {
        const columns = payload.readUInt16BE(at);
        const rows = payload.readUInt16BE(at + 2);
        if (!stream.isTTY || columns === 0 || (columns === stream.columns && rows === stream.rows)) continue;
        Object.assign(stream, { columns, rows }).emit('resize');
      }
    },
  };
}

/** ClientHost is what the resident builder lends each client's commands: its controllers, and the client's cancel. */
export interface ClientHost {
  /** Cancels the client's command, as SIGINT would (the launcher sent a cancel frame or went away). */
  readonly signal: AbortSignal;
  readonly openController: CommandIO['openController'];
  /** Settles once the client has its exit status. */
  readonly answered: Promise<unknown>;
}

/**
 * clientIO is a launcher client as the process a command runs for: its folder, environment and umask as values, its
 * stdout and stderr as streams framed to its socket (with its terminal facts). Nothing of this process is changed, so
 * several clients' builds run at once.
 */
export function clientIO(request: DaemonRequest, outputs: ClientOutputs, host: ClientHost): CommandIO {
  return {
    cwd: request.cwd,
    env: request.env,
    umask: request.umask,
    // The launcher runs commands that read standard input itself: a forwarded build has none.
    stdin: Readable.from([]),
    stdout: outputs.stdout,
    stderr: outputs.stderr,
    onInterrupt(handler) {
      if (host.signal.aborted) handler();
      else host.signal.addEventListener('abort', handler, { once: true });
      return { [Symbol.dispose]: () => host.signal.removeEventListener('abort', handler) };
    },
    openController: host.openController,
    answered: host.answered,
  };
}

/** endClientOutputs ends both streams and waits until what they hold has been handed to the socket. */
export async function endClientOutputs(outputs: ClientOutputs): Promise<void> {
  outputs.stdout.end();
  outputs.stderr.end();
  await Promise.all([finished(outputs.stdout), finished(outputs.stderr)]);
}
