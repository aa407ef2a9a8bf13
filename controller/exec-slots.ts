import { availableParallelism } from 'node:os';
import PQueue from 'p-queue';
import type { Executor } from '../executor/index.js';

/** createExecSlots returns the queue that bounds how many processes run at once (CPU-bound work). */
export function createExecSlots(concurrency = Math.max(4, availableParallelism() * 2)): PQueue {
  return new PQueue({ concurrency });
}

/** limitExecutor makes every run of an executor wait for a slot of the queue. */
export function limitExecutor(executor: () => Promise<Executor>, slots: PQueue): () => Promise<Executor> {
  let limited: Promise<Executor> | undefined;
  return () =>
    (limited ??= executor().then((inner) => ({
      run: (request, options) => slots.add(() => inner.run(request, options), { signal: options.signal }),
    })));
}
