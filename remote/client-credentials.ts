import { digestOf } from '../base/digest.js';
import type { ProgressSink } from '../base/progress.js';
import type { CredentialStore } from '../controller/index.js';
import type { CredentialsResponseMsg } from './messages.js';
import { credentialsMsg } from './stream-credentials.js';

/**
 * ClientCredentials answers a builder's credential requests from the client's own Docker config (the one a local
 * build reads: `auths`, `credsStore`, `credHelpers`), as buildx's auth provider does. The first answer with
 * credentials for a host shows in the progress as `[auth] sharing credentials for HOST`, as buildx shows it.
 */
export class ClientCredentials {
  readonly #store: CredentialStore | undefined;
  readonly #progress: ProgressSink;
  readonly #shared = new Set<string>();

  /** store undefined: the client has no Docker config, so it answers none for every host. */
  constructor(store: CredentialStore | undefined, progress: ProgressSink) {
    this.#store = store;
    this.#progress = progress;
  }

  /** answer looks up a host's credentials; a lookup that fails (a credential helper) is answered with its error. */
  async answer(host: string, signal: AbortSignal): Promise<CredentialsResponseMsg> {
    if (this.#store === undefined) return credentialsMsg(host, undefined);
    try {
      const creds = await this.#store.credentialsFor(host, { signal });
      if (creds !== undefined) this.#reportShared(host);
      return credentialsMsg(host, creds);
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      return { ...credentialsMsg(host, undefined), error: err instanceof Error ? err.message : String(err) };
    }
  }

  #reportShared(host: string): void {
    if (this.#shared.has(host)) return;
    this.#shared.add(host);
    const name = `[auth] sharing credentials for ${host}`;
    const vertex = digestOf(`registry credentials ${host}`);
    const time = Date.now();
    this.#progress.emit({ type: 'vertex.started', vertex, name, time });
    this.#progress.emit({ type: 'vertex.completed', vertex, name, time, durationMs: 0 });
  }
}
