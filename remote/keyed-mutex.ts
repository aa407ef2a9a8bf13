/** KeyedMutex runs one holder per key at a time, in arrival order. */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<void>>();

  /** lock waits for the key and returns its release. */
  async lock(key: string, signal: AbortSignal): Promise<() => void> {
    const prev = this.#tails.get(key) ?? Promise.resolve();
    let release = (): void => undefined;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = prev.then(() => mine);
    this.#tails.set(key, tail);
    const done = (): void => {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    };
    try {
      await abortable(prev, signal);
    } catch (err) {
      done();
      throw err;
    }
    return done;
  }
}

function abortable(p: Promise<void>, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
