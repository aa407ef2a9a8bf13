import { ExportError } from '../../base/errors.js';
import type { Worker } from 'node:worker_threads';

/** GzipJob is a chunk sent to a gzip worker (see WORKER). */
interface GzipJob {
  readonly id: number;
  readonly data: ArrayBuffer;
  readonly level: number;
}

/** GzipReply is a worker's answer to a job: the chunk as one gzip member, or why it could not be compressed. */
type GzipReply = { readonly id: number; readonly member: Uint8Array } | { readonly id: number; readonly error: string };

/** GzipPool compresses chunks, each as one gzip member, on worker threads. */
export interface GzipPool extends AsyncDisposable {
  /** gzip compresses one chunk at `level`; the buffer moves to the worker and is unusable afterwards. */
  gzip(chunk: ArrayBuffer, level: number): Promise<Buffer>;
}

/**
 * WORKER is a gzip worker's whole program: each posted chunk comes back as one gzip member, made by the same zlib and
 * settings as a member compressed on libuv's pool, so the bytes never depend on where it ran. It runs as evaluated
 * source, so it needs no file of its own next to the compiled modules, the bundle's chunks or the tests' sources.
 */
const WORKER = `
const { parentPort } = require('node:worker_threads');
const { gzipSync } = require('node:zlib');
parentPort.on('message', (job) => {
  try {
    // A fresh, exact buffer: it moves to the main thread rather than being copied.
    const member = new Uint8Array(gzipSync(new Uint8Array(job.data), { level: job.level }));
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

const shared = new Map<number, Promise<GzipPool>>();

/**
 * sharedGzipPool returns the process's pool of `threads` workers, started on first use: each export would otherwise
 * start threads of its own (about 0.14 s of CPU time for two, and their start before the first chunk compresses). Its
 * threads never keep the process alive while they have no chunk; a pool that failed is replaced on the next call.
 */
export function sharedGzipPool(threads: number): Promise<GzipPool> {
  let pool = shared.get(threads);
  if (pool === undefined) {
    pool = createGzipPool({ threads, onFailure: () => shared.delete(threads) });
    shared.set(threads, pool);
  }
  return pool;
}

/**
 * createGzipPool starts `threads` workers. Threads (unlike zlib's asynchronous calls) leave libuv's pool to the file
 * reads that make the layer tar, so the reading never waits behind compression. Its threads hold the process open
 * only while a chunk is on its way.
 */
export async function createGzipPool(options: { threads: number; onFailure?: () => void }): Promise<GzipPool> {
  // Loaded only when a layer is compressed: a build that exports nothing never starts threads.
  const { Worker } = await import('node:worker_threads');
  const pending = new Map<number, Pending>();
  const load = new Map<Worker, number>();
  let failure: unknown;
  let closing = false;
  const fail = (error: unknown): void => {
    if (failure === undefined) options.onFailure?.();
    failure ??= error;
    for (const job of pending.values()) job.reject(failure);
    pending.clear();
  };
  for (let i = 0; i < Math.max(1, options.threads); i++) {
    const worker = new Worker(WORKER, { eval: true });
    worker.unref();
    load.set(worker, 0);
    worker.on('message', (reply: GzipReply) => {
      load.set(worker, (load.get(worker) ?? 1) - 1);
      const job = pending.get(reply.id);
      pending.delete(reply.id);
      if (pending.size === 0) for (const w of load.keys()) w.unref();
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
    gzip(chunk, level) {
      if (failure !== undefined) return Promise.reject(failure);
      // The least busy worker takes the chunk; which one it is never changes the member's bytes.
      let worker: Worker | undefined;
      for (const [w, n] of load) if (worker === undefined || n < (load.get(worker) ?? 0)) worker = w;
      if (worker === undefined) return Promise.reject(new ExportError('Cannot compress a layer with gzip: no worker'));
      const id = nextId++;
      load.set(worker, (load.get(worker) ?? 0) + 1);
      const job: GzipJob = { id, data: chunk, level };
      if (pending.size === 0) for (const w of load.keys()) w.ref();
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
