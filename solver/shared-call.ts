/** SharedCall is one call under way, and whether the caller joined it rather than started it. */
export interface SharedCall<T> {
  readonly promise: Promise<T>;
  readonly joined: boolean;
}

/**
 * SharedCalls runs one call per key at a time: callers that come while it runs get its result.
 * It lets concurrent builds in one process run an identical step once.
 */
export class SharedCalls<T> {
  readonly #calls = new Map<string, Promise<T>>();

  /** run starts `fn` for the key, or joins the call already running for it. */
  run(key: string, fn: () => Promise<T>): SharedCall<T> {
    const running = this.#calls.get(key);
    if (running !== undefined) return { promise: running, joined: true };
    const promise = fn().finally(() => this.#calls.delete(key));
    this.#calls.set(key, promise);
    return { promise, joined: false };
  }

  /** size is the number of calls running. */
  get size(): number {
    return this.#calls.size;
  }
}
