/**
 * The layer tar thread's program (started by tar-thread.ts, never imported): it walks snapshots, reads their files and
 * writes the tar records with the same code as the main thread would (tarEntries over walkSnapshot), so the bytes are
 * the same, and digests the tar as it goes. Each chunk moves to the main thread without a copy; a job has at most
 * `window` chunks on their way before the main thread asks for more, so a slow reader bounds the memory held.
 */
import { createHash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { tarEntries } from './tar-entries.js';
import { walkSnapshot } from './walk.js';
import type { TarJobReply, TarJobRequest } from './tar-thread.js';

interface Job {
  readonly controller: AbortController;
  credit: number;
  wake: (() => void) | undefined;
}

const jobs = new Map<number, Job>();
const port = parentPort;
if (port === null) throw new Error('tar-worker runs only as a worker thread');

function post(reply: TarJobReply, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(reply, transfer);
}

async function run(request: Extract<TarJobRequest, { type: 'start' }>): Promise<void> {
  const job: Job = { controller: new AbortController(), credit: request.window, wake: undefined };
  jobs.set(request.id, job);
  const { signal } = job.controller;
  const digest = createHash('sha256');
  try {
    const epoch = request.sourceDateEpoch === undefined ? {} : { sourceDateEpoch: request.sourceDateEpoch };
    for await (const chunk of tarEntries(walkSnapshot(request.dir, { signal }), { ...epoch, signal })) {
      digest.update(chunk);
      while (job.credit === 0 && !signal.aborted) await new Promise<void>((resolve) => (job.wake = resolve));
      signal.throwIfAborted();
      job.credit--;
      const data = movable(chunk);
      post({ type: 'chunk', id: request.id, data, length: chunk.length }, [data]);
    }
    post({ type: 'end', id: request.id, diffId: `sha256:${digest.digest('hex')}` });
  } catch (error) {
    // A cancelled job has nobody left to tell.
    if (!signal.aborted) post({ type: 'error', id: request.id, message: error instanceof Error ? error.message : String(error) });
  } finally {
    jobs.delete(request.id);
  }
}

/** movable returns memory holding the chunk at offset 0 that can move to another thread. */
function movable(chunk: Buffer): ArrayBuffer {
  // tarEntries emits fresh buffers that nothing else holds: their whole memory moves, uncopied.
  if (chunk.byteOffset === 0 && chunk.buffer instanceof ArrayBuffer) return chunk.buffer;
  const copy = new ArrayBuffer(chunk.length);
  chunk.copy(new Uint8Array(copy));
  return copy;
}

port.on('message', (request: TarJobRequest) => {
  switch (request.type) {
    case 'start':
      void run(request);
      return;
    case 'more':
    case 'cancel': {
      const job = jobs.get(request.id);
      if (job === undefined) return;
      if (request.type === 'more') job.credit++;
      else job.controller.abort();
      job.wake?.();
      job.wake = undefined;
      return;
    }
    default:
      request satisfies never;
  }
});
