import type { Socket } from 'node:net';
import type { Logger } from '../base/log.js';
import { createClientOutputs, runAsClient, type ClientOutputs } from './daemon-client-process.js';
import { encodeExitFrame, encodeFrame, FRAME, FrameDecoder, type DaemonFrame } from './daemon-frames.js';
import { parseDaemonRequest, type DaemonRequest } from './daemon-request.js';

/** Claim is the answer to a build request: the process is reserved (release it when done), busy, or stale. */
export type Claim = { readonly release: () => void } | 'busy' | 'stale';

/** SessionHost is what a connection needs from the resident process. */
export interface SessionHost {
  readonly logger: Logger;
  /** claim reserves the process for one build, unless another one runs or the code on disk has changed. */
  claim(request: DaemonRequest): Promise<Claim>;
  /** run runs a tbuild command line, as bin/tbuild.js does, and returns its exit status. */
  run(argv: readonly string[], signal: AbortSignal): Promise<number>;
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
  let accepted = false;
  let status: number;
  try {
    conn.outputs = createClientOutputs(socket, request);
    status = await runAsClient(request, conn.outputs, () => {
      accepted = true;
      socket.write(encodeFrame(FRAME.accepted));
      return host.run(request.argv, signal);
    });
  } catch (err) {
    if (accepted) throw err;
    // The client's process state could not be taken (e.g. its folder is gone): the launcher runs the build itself.
    host.logger.warn('cannot serve a build as its client', { error: err instanceof Error ? err.message : String(err) });
    socket.end(encodeFrame(FRAME.busy));
    return;
  } finally {
    claim.release();
  }
  const rssMb = Math.round(process.memoryUsage.rss() / 1e6);
  host.logger.info('build served', { status, ms: Math.round(performance.now() - began), cwd: request.cwd, cancelled: signal.aborted, rssMb });
  if (socket.writable) socket.end(encodeExitFrame(status));
}
