import { RegistryError } from '../base/errors.js';
import type { CredentialStore, Credentials } from '../controller/index.js';
import type { CredentialsResponseMsg, ServerMessage } from './messages.js';

interface Waiter {
  readonly resolve: (value: Credentials | undefined) => void;
  readonly reject: (err: unknown) => void;
}

/** StreamCredentialsOptions say whom a build's registry credentials come from. */
export interface StreamCredentialsOptions {
  /** The client answers credential requests (BuildStart.credentials); an older client that does not has none. */
  readonly offered: boolean;
  readonly send: (m: ServerMessage) => Promise<void>;
  /** The server's own credentials, for hosts the client has none for; undefined unless the server allows them. */
  readonly fallback?: CredentialStore | undefined;
}

/**
 * StreamCredentialStore answers a build's registry credentials from its client over the open Build call, as
 * BuildKit's session auth provider: the first time the build talks to a host it asks the client, and keeps the
 * answer in memory for this build only (never on disk, in a log or in an error). When the client has none for a host,
 * the server's own credentials answer, if it was started to allow that.
 */
export class StreamCredentialStore implements CredentialStore {
  readonly #o: StreamCredentialsOptions;
  /** The client's answer by host, asked once per build. */
  readonly #answers = new Map<string, Promise<Credentials | undefined>>();
  /** Requests not answered yet, by host. */
  readonly #waiting = new Map<string, Waiter>();
  #closed: Error | undefined;

  constructor(o: StreamCredentialsOptions) {
    this.#o = o;
  }

  async credentialsFor(host: string, options: { signal?: AbortSignal } = {}): Promise<Credentials | undefined> {
    options.signal?.throwIfAborted();
    const own = this.#o.offered ? await this.#fromClient(host, options.signal) : undefined;
    if (own !== undefined || this.#o.fallback === undefined) return own;
    return this.#o.fallback.credentialsFor(host, options);
  }

  /** answer hands the client's answer to the build waiting for that host's credentials. */
  answer(m: CredentialsResponseMsg): void {
    const waiter = this.#waiting.get(m.host);
    if (waiter === undefined) return;
    this.#waiting.delete(m.host);
    if (m.error !== '') {
      waiter.reject(new RegistryError(`Cannot read the client's credentials for "${m.host}": ${m.error}`, { code: 'REGISTRY_AUTH', hint: 'check the credential helper of the client\'s Docker config.json' }));
    } else {
      waiter.resolve(credentialsOf(m));
    }
  }

  /** fail fails the requests waiting and those still to come: the client stopped answering. Answers kept still serve. */
  fail(err: Error): void {
    this.#closed = err;
    for (const w of this.#waiting.values()) w.reject(err);
    this.#waiting.clear();
  }

  #fromClient(host: string, signal: AbortSignal | undefined): Promise<Credentials | undefined> {
    let answer = this.#answers.get(host);
    if (answer === undefined) {
      if (this.#closed !== undefined) return Promise.reject(this.#closed);
      answer = new Promise<Credentials | undefined>((resolve, reject) => this.#waiting.set(host, { resolve, reject }));
      // Every caller awaits it through whenAnswered; a failure nobody waits for any more is not an unhandled rejection.
      answer.catch(() => undefined);
      this.#answers.set(host, answer);
      this.#o.send({ kind: 'credentialsRequest', credentialsRequest: { host } }).catch((err: unknown) => {
        this.#waiting.get(host)?.reject(err);
        this.#waiting.delete(host);
      });
    }
    return whenAnswered(answer, signal);
  }
}

/** credentialsOf reads credentials from the wire: an identity token when one is set, else a user and password. */
export function credentialsOf(m: CredentialsResponseMsg): Credentials | undefined {
  if (!m.found) return undefined;
  if (m.identityToken !== '') return { kind: 'identity-token', username: m.username, token: m.identityToken };
  return { kind: 'basic', username: m.username, password: m.password };
}

/** credentialsMsg puts a host's credentials on the wire (found false: none). */
export function credentialsMsg(host: string, creds: Credentials | undefined): CredentialsResponseMsg {
  const msg = { host, found: creds !== undefined, username: creds?.username ?? '', password: '', identityToken: '', error: '' };
  if (creds === undefined) return msg;
  return creds.kind === 'basic' ? { ...msg, password: creds.password } : { ...msg, identityToken: creds.token };
}

/** whenAnswered waits for the client's answer, or until this caller's signal aborts (the request stays for others). */
async function whenAnswered<T>(answer: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return answer;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([answer, aborted]);
  } finally {
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
  }
}
