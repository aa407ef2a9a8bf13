import { ExportError } from '../../base/errors.js';
import type { Worker } from 'node:worker_threads';

/** GzipJob is a chunk sent to a gzip worker (see WORKER). */
interface GzipJob {
  readonly id: number;
  readonly data: ArrayBuffer;
}

/** GzipReply is a worker's answer to a job: the chunk as one gzip member, or why it could not be compressed. */
type GzipReply = { readonly id: number; readonly member: Uint8Array } | { readonly id: number; readonly error: string };

/** GzipPool compresses chunks, each as one gzip member, on worker threads. */
export interface GzipPool extends AsyncDisposable {
  /** gzip compresses one chunk; the buffer moves to the worker and is unusable afterwards. */
  gzip(chunk: ArrayBuffer): Promise<Buffer>;
}

/**
 * WORKER is a gzip worker's whole program: each posted chunk comes back as one gzip member, made by the same zlib and
 * settings as a member compressed on libuv's pool, so the bytes never depend on where it ran. It runs as evaluated
 * source, so it needs no file of its own next to the compiled modules, the bundle's chunks or the tests' sources.
 */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { gzipSync } = require('node:zlib');
parentPort.on('message', (job) => {
  try {
    // A fresh, exact buffer: it moves to the main thread rather than being copied.
    const member = new Uint8Array(gzipSync(new Uint8Array(job.data), { level: workerData.level }));
    parentPort.postMessage({ id: job.id, member }, [member.buffer]);
  } catch (error) {
    parentPort.postMessage({ id: job.id, error: error instanceof Error ? error.message : String(error) });
  }
});
`;

interface Pending {
  resolve(member: Buffer): void;
  reject(error: unknown): void;
}

/**
 * createGzipPool starts `threads` workers. Threads (unlike zlib's asynchronous calls) leave libuv's pool to the file
 * reads that make the layer tar, so the reading never waits behind compression.
 */
export async function createGzipPool(options: { threads: number; level: number }): Promise<GzipPool> {
  // Loaded only when a layer is compressed: a build that exports nothing never starts threads.
  const { Worker } = await import('node:worker_threads');
  const pending = new Map<number, Pending>();
  const load = new Map<Worker, number>();
  let failure: unknown;
  let closing = false;
  const fail = (error: unknown): void => {
    failure ??= error;
    for (const job of pending.values()) job.reject(failure);
    pending.clear();
  };
  for (let i = 0; i < Math.max(1, options.threads); i++) {
    const worker = new Worker(WORKER, { eval: true, workerData: { level: options.level } });
    load.set(worker, 0);
    worker.on('message', (reply: GzipReply) => {
      load.set(worker, (load.get(worker) ?? 1) - 1);
      const job = pending.get(reply.id);
      pending.delete(reply.id);
      if ('error' in reply) job?.reject(new ExportError(`Cannot compress a layer with gzip: ${reply.error}`));
      else job?.resolve(Buffer.from(reply.member.buffer, reply.member.byteOffset, reply.member.byteLength));
    });
    worker.on('error', (error) => fail(new ExportError('Cannot compress a layer with gzip: a worker failed', { cause: error })));
    worker.on('exit', (code) => {
      // A worker gone before the pool closes would leave the chunks sent to it unanswered: the pool fails instead.
      load.delete(worker);
      if (!closing) fail(new ExportError(`Cannot compress a layer with gzip: a worker exited with status ${code}`));
    });
  }
  let nextId = 0;
  return {
    gzip(chunk) {
      if (failure !== undefined) return Promise.reject(failure);
      // The least busy worker takes the chunk; which one it is never changes the member's bytes.
      let worker: Worker | undefined;
      for (const [w, n] of load) if (worker === undefined || n < (load.get(worker) ?? 0)) worker = w;
      if (worker === undefined) return Promise.reject(new ExportError('Cannot compress a layer with gzip: no worker'));
      const id = nextId++;
      load.set(worker, (load.get(worker) ?? 0) + 1);
      const job: GzipJob = { id, data: chunk };
      const done = new Promise<Buffer>((resolve, reject) => pending.set(id, { resolve, reject }));
      worker.postMessage(job, [chunk]);
      return done;
    },
    async [Symbol.asyncDispose]() {
      closing = true;
      await Promise.all([...load.keys()].map((w) => w.terminate()));
    },
  };
}
