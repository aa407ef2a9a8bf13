import type { Socket } from 'node:net';
import { finished } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { encodeFrame, FRAME, type FrameType } from './daemon-frames.js';
import type { ClientStream, DaemonRequest } from './daemon-request.js';

/** ClientOutput is a stream standing in for process.stdout/stderr: it frames what a build writes to the launcher. */
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

/** replaceEnvironment makes process.env (the real environment, which child processes inherit) equal to env. */
function replaceEnvironment(env: Readonly<Record<string, string>>): void {
  for (const name of Object.keys(process.env)) {
    if (!Object.hasOwn(env, name)) delete process.env[name];
  }
  Object.assign(process.env, env);
}

/** ProcessFacts is what runAsClient changes and puts back. */
interface ProcessFacts {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly umask: number;
  readonly stdout: PropertyDescriptor | undefined;
  readonly stderr: PropertyDescriptor | undefined;
}

function restore(saved: ProcessFacts): void {
  if (saved.stdout !== undefined) Object.defineProperty(process, 'stdout', saved.stdout);
  if (saved.stderr !== undefined) Object.defineProperty(process, 'stderr', saved.stderr);
  replaceEnvironment(saved.env);
  process.umask(saved.umask);
  process.chdir(saved.cwd);
}

/**
 * runAsClient runs fn with the process made to look like the launcher's: its working folder, environment and umask,
 * and stdout/stderr that reach the launcher (with its terminal facts). Everything is put back afterwards, once
 * the output has been handed to the socket. Only one call may run at a time: these are process-wide.
 */
export async function runAsClient<T>(request: DaemonRequest, outputs: ClientOutputs, fn: () => Promise<T>): Promise<T> {
  const { stdout, stderr } = outputs;
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined) env[name] = value;
  const cwd = process.cwd();
  process.chdir(request.cwd);
  const saved: ProcessFacts = {
    cwd,
    env,
    umask: process.umask(request.umask),
    stdout: Object.getOwnPropertyDescriptor(process, 'stdout'),
    stderr: Object.getOwnPropertyDescriptor(process, 'stderr'),
  };
  replaceEnvironment(request.env);
  Object.defineProperty(process, 'stdout', { value: stdout, configurable: true, enumerable: true, writable: false });
  Object.defineProperty(process, 'stderr', { value: stderr, configurable: true, enumerable: true, writable: false });
  try {
    return await fn();
  } finally {
    stdout.end();
    stderr.end();
    await Promise.all([finished(stdout), finished(stderr)]);
    restore(saved);
  }
}
