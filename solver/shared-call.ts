/** SharedCall is one caller's view of a call under way, and whether the caller joined it rather than started it. */
export interface SharedCall<T> {
  /** Settles with the call, or rejects with the caller's own abort reason as soon as that caller is interrupted. */
  readonly promise: Promise<T>;
  readonly joined: boolean;
}

interface Running<T> {
  readonly promise: Promise<T>;
  readonly controller: AbortController;
  waiters: number;
}

/**
 * SharedCalls runs one call per key at a time: callers that come while it runs get its result. It lets concurrent
 * builds in one process run an identical step once. The call has its own abort signal, raised only when every caller
 * waiting for it was interrupted: one build cancelling does not stop a step that another build still waits for.
 */
export class SharedCalls<T> {
  readonly #calls = new Map<string, Running<T>>();

  /**
   * run starts `fn` for the key, or joins the call already running for it. `signal` is the caller's interrupt; a caller
   * without one waits to the end.
   */
  run(key: string, fn: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): SharedCall<T> {
    let running = this.#calls.get(key);
    const joined = running !== undefined;
    if (running === undefined) {
      const controller = new AbortController();
      const promise = fn(controller.signal).finally(() => this.#calls.delete(key));
      running = { promise, controller, waiters: 0 };
      this.#calls.set(key, running);
    }
    running.waiters++;
    return { promise: this.#follow(running, signal), joined };
  }

  #follow(running: Running<T>, signal: AbortSignal | undefined): Promise<T> {
    if (signal === undefined) return running.promise;
    return new Promise<T>((resolve, reject) => {
      let waiting = true;
      const stopWaiting = (): boolean => {
        if (!waiting) return false;
        waiting = false;
        signal.removeEventListener('abort', interrupted);
        return true;
      };
      const interrupted = (): void => {
        if (!stopWaiting()) return;
        if (--running.waiters === 0) running.controller.abort(signal.reason);
        reject(signal.reason);
      };
      if (signal.aborted) {
        interrupted();
        return;
      }
      signal.addEventListener('abort', interrupted, { once: true });
      running.promise.then(
        (value) => {
          if (stopWaiting()) resolve(value);
        },
        (err: unknown) => {
          if (stopWaiting()) reject(err);
        },
      );
    });
  }

  /** size is the number of calls running. */
  get size(): number {
    return this.#calls.size;
  }
}
