import { InternalError } from '../base/errors.js';
import type { SecretProvider } from '../controller/index.js';
import type { SecretResponseMsg, ServerMessage } from './messages.js';

interface Waiter {
  readonly resolve: (value: Buffer | undefined) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * StreamSecretProvider asks the client for a secret's value over the open Build call each time a RUN mounts it.
 * Values are held in memory only until handed to the RUN mount, and never appear in messages or logs.
 */
export class StreamSecretProvider implements SecretProvider {
  readonly #ids: ReadonlySet<string>;
  readonly #send: (m: ServerMessage) => Promise<void>;
  /** Requests in flight by secret id: concurrent RUNs asking for one id share one request. */
  readonly #waiting = new Map<string, Waiter[]>();
  #closed: Error | undefined;

  constructor(ids: readonly string[], send: (m: ServerMessage) => Promise<void>) {
    this.#ids = new Set(ids);
    this.#send = send;
  }

  /** get asks the client for secret `id`; ids the client did not offer are absent without asking. */
  async get(id: string, options: { signal: AbortSignal }): Promise<Buffer | undefined> {
    if (!this.#ids.has(id)) return undefined;
    options.signal.throwIfAborted();
    if (this.#closed !== undefined) throw this.#closed;
    const { promise, waiter } = deferred();
    const waiters = this.#waiting.get(id);
    if (waiters === undefined) {
      this.#waiting.set(id, [waiter]);
      try {
        await this.#send({ kind: 'secretRequest', secretRequest: { id } });
      } catch (err) {
        this.#waiting.delete(id);
        throw err;
      }
    } else {
      waiters.push(waiter);
    }
    const onAbort = (): void => waiter.reject(options.signal.reason);
    options.signal.addEventListener('abort', onAbort, { once: true });
    try {
      return await promise;
    } finally {
      options.signal.removeEventListener('abort', onAbort);
    }
  }

  /** answer hands the client's answer to the requests waiting for that secret. */
  answer(m: SecretResponseMsg): void {
    const waiters = this.#waiting.get(m.id) ?? [];
    this.#waiting.delete(m.id);
    for (const w of waiters) w.resolve(m.found ? m.value : undefined);
  }

  /** fail fails the requests waiting and those still to come: the client stopped answering. */
  fail(err: Error): void {
    this.#close(err);
  }

  #close(err: Error): void {
    this.#closed = err;
    for (const waiters of this.#waiting.values()) for (const w of waiters) w.reject(err);
    this.#waiting.clear();
  }
}

function deferred(): { promise: Promise<Buffer | undefined>; waiter: Waiter } {
  let waiter: Waiter | undefined;
  const promise = new Promise<Buffer | undefined>((resolve, reject) => {
    waiter = { resolve, reject };
  });
  // The executor runs synchronously, so waiter is set here.
  if (waiter === undefined) throw new InternalError('Cannot create a secret request');
  // A request can fail while its first caller still waits for the send; the caller's await handles it then.
  promise.catch(() => undefined);
  return { promise, waiter };
}
