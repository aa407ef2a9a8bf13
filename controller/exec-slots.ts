import { availableParallelism } from 'node:os';
import PQueue from 'p-queue';
import type { Executor } from '../executor/index.js';

/**
 * defaultParallelism is how many builds, and how many RUN processes, run at once unless told otherwise: four per CPU
 * (at least 8). BuildKit bounds neither by default; most of a build's time is waiting (the network, a registry, a
 * step's own sleeps and downloads) rather than computing, and the kernel shares the CPUs among processes that do
 * compute, so a bound of one build per CPU left them idle while clients waited (eight clients each with a one-second
 * RUN took four rounds on two CPUs). The bounds stay, for the memory of a server that too many builds reach at once.
 */
export function defaultParallelism(): number {
  return Math.max(8, availableParallelism() * 4);
}

/** createExecSlots returns the queue that bounds how many RUN processes run at once. */
export function createExecSlots(concurrency = defaultParallelism()): PQueue {
  return new PQueue({ concurrency });
}

/** limitExecutor makes every run of an executor wait for a slot of the queue. */
export function limitExecutor(executor: () => Promise<Executor>, slots: PQueue): () => Promise<Executor> {
  let limited: Promise<Executor> | undefined;
  return () =>
    (limited ??= executor().then((inner) => ({
      run: (request, options) => slots.add(() => inner.run(request, options), { signal: options.signal }),
      // Getting ready takes no slot: it is what a RUN waiting for one would otherwise do once it has it.
      expect: (network) => inner.expect?.(network),
    })));
}
