import type { Client } from '@grpc/grpc-js';

interface OpenChannel {
  readonly client: Client;
  refs: number;
}

/** SharedChannel is one holder's use of a channel: release it when its call is done. */
export interface SharedChannel extends Disposable {
  readonly client: Client;
}

/**
 * OpenChannels keeps one client per builder connection (address, TLS material, server name) while calls use it. A
 * channel no call uses is closed at once (an open channel keeps the process alive), unless a hold is taken: then it
 * stays open for the next call until the last hold ends, so that a build reuses the connection its server's health
 * check made instead of connecting (and shaking hands over TLS) again.
 */
export class OpenChannels {
  readonly #open = new Map<string, OpenChannel>();
  #holds = 0;

  acquire(key: string, make: () => Client): SharedChannel {
    let open = this.#open.get(key);
    if (open === undefined) {
      open = { client: make(), refs: 0 };
      this.#open.set(key, open);
    }
    open.refs++;
    const held = open;
    let released = false;
    return {
      client: held.client,
      [Symbol.dispose]: () => {
        if (released) return;
        released = true;
        held.refs--;
        if (held.refs === 0 && (this.#holds === 0 || this.#open.get(key) !== held)) this.#close(key, held);
      },
    };
  }

  /** hold keeps channels open between calls until it is disposed (and no other hold is left). */
  hold(): Disposable {
    this.#holds++;
    let ended = false;
    return {
      [Symbol.dispose]: () => {
        if (ended) return;
        ended = true;
        this.#holds--;
        if (this.#holds > 0) return;
        for (const [key, open] of [...this.#open]) if (open.refs === 0) this.#close(key, open);
      },
    };
  }

  /** discard makes the next acquire of a key connect anew; the channel closes once its holders release it. */
  discard(key: string): void {
    const open = this.#open.get(key);
    if (open === undefined) return;
    this.#open.delete(key);
    if (open.refs === 0) open.client.close();
  }

  /** size counts the channels open. */
  get size(): number {
    return this.#open.size;
  }

  #close(key: string, open: OpenChannel): void {
    if (this.#open.get(key) === open) this.#open.delete(key);
    open.client.close();
  }
}
