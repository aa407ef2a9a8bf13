import type { Worker } from 'node:worker_threads';
import { Digester, parseDigest, type Digest } from '../../base/digest.js';
import { ExportError } from '../../base/errors.js';
import { tarEntries } from './tar-entries.js';
import { isSmallTree, type TreeBounds } from './tree-size.js';
import { walkSnapshot } from './walk.js';

/** TarJobRequest is what the main thread sends the layer tar thread (see tar-worker.ts). */
export type TarJobRequest =
  | { readonly type: 'start'; readonly id: number; readonly dir: string; readonly sourceDateEpoch?: number; readonly window: number }
  /** more lets the job send one more chunk: the main thread took one. */
  | { readonly type: 'more'; readonly id: number }
  | { readonly type: 'cancel'; readonly id: number };

/** TarJobReply is what the layer tar thread sends back: the tar's chunks in order, then its digest or why it failed. */
export type TarJobReply =
  | { readonly type: 'chunk'; readonly id: number; readonly data: ArrayBuffer; readonly length: number }
  | { readonly type: 'end'; readonly id: number; readonly diffId: string }
  | { readonly type: 'error'; readonly id: number; readonly message: string };

/** WINDOW is how many chunks (of 1 MiB) a job may have on their way to the main thread. */
const WINDOW = 4;

/** LayerTarChunks is a layer tar being made on the tar thread. */
export interface LayerTarChunks {
  /** chunks are the tar's bytes in order; each owns its memory (it may be moved to another thread). */
  readonly chunks: AsyncGenerator<Buffer>;
  /** diffId is the tar's digest, once `chunks` has ended. */
  diffId(): Digest;
}

interface TarThread {
  readonly worker: Worker;
  readonly jobs: Map<number, (reply: TarJobReply | { type: 'failed'; error: unknown }) => void>;
}

let thread: Promise<TarThread> | undefined;
let nextId = 0;

/**
 * workerUrl locates the thread's program: beside this module when compiled (dist/ or the bundle, which builds it as
 * dist/bundle/tar-worker.js), and the compiled one of the built tree when this module runs from its source.
 */
function workerUrl(): URL {
  const here = import.meta.url;
  return here.endsWith('.ts') ? new URL('../../dist/exporter/layer/tar-worker.js', here) : new URL('./tar-worker.js', here);
}

/**
 * tarThread starts the one layer tar thread of the process, on first use. It stays for later exports (a resident
 * builder pays its start once) but never keeps the process alive while it has no job.
 */
async function tarThread(): Promise<TarThread> {
  const { Worker } = await import('node:worker_threads');
  const worker = new Worker(workerUrl());
  const jobs: TarThread['jobs'] = new Map();
  const failAll = (error: unknown): void => {
    // The next export starts a thread of its own.
    thread = undefined;
    for (const job of jobs.values()) job({ type: 'failed', error });
  };
  worker.on('message', (reply: TarJobReply) => jobs.get(reply.id)?.(reply));
  worker.on('error', (error) => failAll(new ExportError('Cannot make a layer tar: its thread failed', { cause: error })));
  worker.on('exit', (code) => failAll(new ExportError(`Cannot make a layer tar: its thread exited with status ${code}`)));
  worker.unref();
  return { worker, jobs };
}

/**
 * SMALL is the size of a layer whose tar is made on the main thread: starting the tar thread (about 0.13 s of CPU time)
 * would cost more than the event loop loses to a tar this small.
 */
const SMALL: TreeBounds = { bytes: 4 * 1024 * 1024, entries: 2000 };

type TarOptions = { readonly sourceDateEpoch?: number; readonly signal: AbortSignal };

/**
 * layerTarChunks makes an upper-dir-form snapshot's layer tar (the bytes createLayerTar gives): on the tar thread,
 * unless the snapshot is small (see SMALL).
 */
export function layerTarChunks(dir: string, options: TarOptions): LayerTarChunks {
  return withDiffId((ended) => (isSmallTree(dir, SMALL) ? onMainThread(dir, options, ended) : run(dir, options, ended)));
}

/** layerTarChunksOnThread makes the tar on the tar thread, whatever the snapshot's size. */
export function layerTarChunksOnThread(dir: string, options: TarOptions): LayerTarChunks {
  return withDiffId((ended) => run(dir, options, ended));
}

function withDiffId(make: (ended: (diffId: Digest) => void) => AsyncGenerator<Buffer>): LayerTarChunks {
  let diffId: Digest | undefined;
  const chunks = make((digest) => (diffId = digest));
  return {
    chunks,
    diffId() {
      if (diffId === undefined) throw new ExportError('Cannot give a layer tar digest before the tar has ended');
      return diffId;
    },
  };
}

async function* onMainThread(dir: string, options: TarOptions, ended: (diffId: Digest) => void): AsyncGenerator<Buffer> {
  const { signal } = options;
  const digest = new Digester();
  const epoch = options.sourceDateEpoch === undefined ? {} : { sourceDateEpoch: options.sourceDateEpoch };
  for await (const chunk of tarEntries(walkSnapshot(dir, { signal }), { ...epoch, signal })) {
    digest.update(chunk);
    yield chunk;
  }
  ended(digest.digest());
}

async function* run(dir: string, options: TarOptions, ended: (diffId: Digest) => void): AsyncGenerator<Buffer> {
  const { signal } = options;
  signal.throwIfAborted();
  thread ??= tarThread();
  const { worker, jobs } = await thread;
  const id = nextId++;
  const queue: (TarJobReply | { type: 'failed'; error: unknown })[] = [];
  let wake: (() => void) | undefined;
  const push = (reply: (typeof queue)[number]): void => {
    queue.push(reply);
    wake?.();
    wake = undefined;
  };
  const onAbort = (): void => push({ type: 'failed', error: signal.reason });
  jobs.set(id, push);
  if (jobs.size === 1) worker.ref();
  signal.addEventListener('abort', onAbort, { once: true });
  let settled = false;
  try {
    const epoch = options.sourceDateEpoch === undefined ? {} : { sourceDateEpoch: options.sourceDateEpoch };
    worker.postMessage({ type: 'start', id, dir, window: WINDOW, ...epoch } satisfies TarJobRequest);
    for (;;) {
      const reply = queue.shift();
      if (reply === undefined) {
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      switch (reply.type) {
        case 'chunk':
          yield Buffer.from(reply.data, 0, reply.length);
          worker.postMessage({ type: 'more', id } satisfies TarJobRequest);
          break;
        case 'end':
          settled = true;
          ended(parseDigest(reply.diffId));
          return;
        case 'error':
          settled = true;
          throw new ExportError(reply.message);
        case 'failed':
          throw reply.error;
        default:
          return reply satisfies never;
      }
    }
  } finally {
    // A reader that stopped early (or an abort) leaves the thread nothing to do for this job.
    if (!settled) worker.postMessage({ type: 'cancel', id } satisfies TarJobRequest);
    signal.removeEventListener('abort', onAbort);
    jobs.delete(id);
    if (jobs.size === 0) worker.unref();
  }
}
