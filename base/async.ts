/** settleAll awaits every promise and throws the first rejection once all have settled. */
export async function settleAll<T>(promises: readonly Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/**
 * mapLimit runs `fn` over items with at most `limit` calls in flight, keeping order. After the first failure it starts
 * nothing more, waits for the calls already running, and rejects with that first failure.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  let failure: { readonly reason: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i] as T, i);
      } catch (err) {
        failure ??= { reason: err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure.reason;
  return out;
}

/**
 * createPacer lets long synchronous work in small steps (a Dockerfile's conversion, instruction by instruction) hand
 * the event loop a turn once every sliceMs of work, so that a signal handler (Ctrl-C) or a cancelled request runs and
 * aborts the signal; each call throws the signal's reason once it is aborted.
 */
export function createPacer(signal: AbortSignal, sliceMs = 20): () => Promise<void> {
  let last = performance.now();
  return async () => {
    signal.throwIfAborted();
    if (performance.now() - last < sliceMs) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    last = performance.now();
    signal.throwIfAborted();
  };
}
