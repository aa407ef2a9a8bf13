import type { Socket } from 'node:net';
import type { Logger } from '../base/log.js';
import type { CommandIO } from './command-io.js';
import { clientIO, createClientOutputs, endClientOutputs, type ClientOutputs } from './daemon-client-io.js';
import { encodeExitFrame, encodeFrame, FRAME, FrameDecoder, type DaemonFrame } from './daemon-frames.js';
import { parseDaemonRequest, type DaemonRequest } from './daemon-request.js';

/** Claim is the answer to a build request: the build is taken (release it when done), or the process is stopping (busy) or stale. */
export type Claim = { readonly release: () => void } | 'busy' | 'stale';

/** SessionHost is what a connection needs from the resident process. */
export interface SessionHost {
  readonly logger: Logger;
  /** claim takes one build, unless the process is stopping or the code on disk has changed. */
  claim(request: DaemonRequest): Promise<Claim>;
  /** run runs a tbuild command line for a client, as bin/tbuild.js does for its own process, and returns its exit status. */
  run(argv: readonly string[], io: CommandIO): Promise<number>;
  /** openController lends the controllers the builds of every client share. */
  readonly openController: CommandIO['openController'];
  /** stop shuts the process down once the running build (if any) is done. */
  stop(reason: string): Promise<void>;
}

/** Connection is what the frames after a request act on: the build's cancel, and its outputs once they exist. */
interface Connection {
  readonly socket: Socket;
  readonly abort: AbortController;
  outputs?: ClientOutputs;
}

/** serveConnection reads one launcher connection: a build request (or a quit), then cancels and resizes, until it closes. */
export function serveConnection(socket: Socket, host: SessionHost): void {
  const decoder = new FrameDecoder();
  const conn: Connection = { socket, abort: new AbortController() };
  let started = false;
  socket.on('error', (err) => host.logger.warn('launcher connection failed', { error: err.message }));
  // A launcher that goes away (killed, terminal closed) cancels its build, as SIGINT would.
  socket.on('close', () => conn.abort.abort());
  socket.on('data', (chunk: Buffer) => {
    let frames: DaemonFrame[];
    try {
      frames = decoder.push(chunk);
    } catch (err) {
      host.logger.warn('closing a launcher connection: bad frame', { error: err instanceof Error ? err.message : String(err) });
      socket.destroy();
      return;
    }
    for (const frame of frames) {
      if (frame.type === FRAME.cancel) conn.abort.abort();
      else if (frame.type === FRAME.resize) conn.outputs?.resize(frame.payload);
      else if (started) host.logger.warn('ignoring a second request on one connection', { type: frame.type });
      else {
        started = true;
        void onFirstFrame(conn, host, frame);
      }
    }
  });
}

/** onFirstFrame serves the request; it never rejects: failures are logged and end the connection. */
async function onFirstFrame(conn: Connection, host: SessionHost, frame: DaemonFrame): Promise<void> {
  try {
    if (frame.type === FRAME.quit) {
      await host.stop('tbuild daemon stop');
      conn.socket.end(encodeFrame(FRAME.accepted));
    } else if (frame.type === FRAME.request) {
      await serveBuild(conn, host, parseDaemonRequest(frame.payload));
    } else {
      host.logger.warn('closing a launcher connection: unexpected frame', { type: frame.type });
      conn.socket.destroy();
    }
  } catch (err) {
    host.logger.error('launcher request failed', { error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    conn.socket.destroy();
  }
}

async function serveBuild(conn: Connection, host: SessionHost, request: DaemonRequest): Promise<void> {
  const { socket } = conn;
  const { signal } = conn.abort;
  // Only builds come here (the launcher runs every other command itself); anything else runs directly too.
  const claim = request.argv[0] === 'build' ? await host.claim(request) : 'busy';
  if (claim === 'busy' || claim === 'stale') {
    socket.end(encodeFrame(claim === 'busy' ? FRAME.busy : FRAME.stale));
    return;
  }
  const began = performance.now();
  // What the build leaves for after its answer (its history record's commit) waits for the exit frame.
  let answer = (): void => undefined;
  const answered = new Promise<void>((resolve) => (answer = resolve));
  try {
    let status: number;
    try {
      socket.write(encodeFrame(FRAME.accepted));
      conn.outputs = createClientOutputs(socket, request);
      const io = clientIO(request, conn.outputs, { signal, openController: host.openController, answered });
      try {
        status = await host.run(request.argv, io);
      } finally {
        await endClientOutputs(conn.outputs);
      }
    } finally {
      claim.release();
    }
    const rssMb = Math.round(process.memoryUsage.rss() / 1e6);
    host.logger.info('build served', { status, ms: Math.round(performance.now() - began), cwd: request.cwd, cancelled: signal.aborted, rssMb });
    if (socket.writable) socket.end(encodeExitFrame(status));
  } finally {
    answer();
  }
}
