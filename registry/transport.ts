import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import { errnoCode, RegistryError } from '../base/errors.js';
import type { Authorizer } from './auth.js';
import type { Endpoint } from './endpoints.js';
import { isRecord, readText } from './read-body.js';
import { loadUndici } from './undici.js';

/** Operation names what a request is for, so errors read `Cannot resolve image "ref": detail`. */
export interface Operation {
  /** e.g. `Cannot resolve image` */
  readonly action: string;
  /** the reference in the message */
  readonly ref: string;
}

/** RegistryRequest is one HTTP exchange with a registry endpoint. */
export interface RegistryRequest {
  readonly method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH';
  readonly endpoint: Endpoint;
  /** Host whose credentials apply (the registry name, or the mirror host). */
  readonly credentialsHost: string;
  /** `/v2/...` (appended to the endpoint base) or an absolute URL such as an upload location. */
  readonly url: string;
  readonly scope: string;
  readonly operation: Operation;
  readonly headers?: Readonly<Record<string, string>>;
  /** Called once per attempt, so a streamed body can be sent again after a retry. */
  readonly body?: () => Promise<Readable | Uint8Array | string>;
  readonly signal: AbortSignal;
  /** false: no retry on 5xx or resets (the caller restarts a larger exchange, such as a blob upload). */
  readonly retry?: boolean;
}

const MAX_ATTEMPTS = 3;
const MAX_REDIRECTS = 5;
const BACKOFF_MS = 200;
const MAX_ERROR_BODY = 64 * 1024;
const RETRYABLE_ERRNO = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_HEADERS_TIMEOUT']);

/** Transport sends registry requests with authentication, redirects and retries (5xx, connection resets). */
export class Transport {
  readonly #authorizer: Authorizer;

  constructor(authorizer: Authorizer) {
    this.#authorizer = authorizer;
  }

  /** send performs a request; the caller must consume or dump the response body. */
  async send(req: RegistryRequest): Promise<Dispatcher.ResponseData> {
    let reauthorized = false;
    for (let attempt = 1; ; attempt++) {
      req.signal.throwIfAborted();
      let res: Dispatcher.ResponseData;
      try {
        res = await this.#attempt(req);
      } catch (err) {
        if (req.signal.aborted) throw req.signal.reason;
        if (req.retry !== false && attempt < MAX_ATTEMPTS && RETRYABLE_ERRNO.has(errnoCode(err) ?? '')) {
          await sleep(BACKOFF_MS * 2 ** (attempt - 1), undefined, { signal: req.signal });
          continue;
        }
        throw connectionError(req, err);
      }
      if (res.statusCode === 401 && !reauthorized) {
        const header = firstHeader(res.headers['www-authenticate']);
        const o = { credentialsHost: req.credentialsHost, scope: req.scope, signal: req.signal };
        if (await this.#authorizer.challenged(req.endpoint.host, header, o)) {
          await res.body.dump();
          reauthorized = true;
          attempt--;
          continue;
        }
      }
      if (res.statusCode === 401) {
        await res.body.dump();
        throw await this.#unauthorized(req);
      }
      if (res.statusCode >= 500 && req.retry !== false && attempt < MAX_ATTEMPTS) {
        await res.body.dump();
        await sleep(BACKOFF_MS * 2 ** (attempt - 1), undefined, { signal: req.signal });
        continue;
      }
      return res;
    }
  }

  async #unauthorized(req: RegistryRequest): Promise<RegistryError> {
    const host = req.credentialsHost;
    const known = await this.#authorizer.hasCredentials(host, req.signal);
    const detail = known ? `the registry refused the credentials for "${host}"` : `authentication required by "${host}"`;
    return new RegistryError(`${req.operation.action} "${req.operation.ref}": ${detail}`, {
      code: 'REGISTRY_AUTH',
      status: 401,
      ref: req.operation.ref,
      hint: known ? `check the user name and password, then run "tbuild login ${host}" again` : `log in with "tbuild login ${host}"`,
    });
  }

  async #attempt(req: RegistryRequest): Promise<Dispatcher.ResponseData> {
    const authorization = await this.#authorizer.authorization(req.endpoint.host, {
      credentialsHost: req.credentialsHost,
      scope: req.scope,
      dispatcher: req.endpoint.dispatcher,
      signal: req.signal,
    });
    const { request } = await loadUndici();
    let url = new URL(req.url.startsWith('/') ? req.endpoint.base + req.url : req.url);
    const origin = new URL(req.endpoint.base).origin;
    for (let redirects = 0; ; redirects++) {
      const headers: Record<string, string> = { ...req.headers };
      // Credentials never follow a redirect to another origin (blob storage URLs are pre-signed).
      if (authorization !== undefined && url.origin === origin) headers['authorization'] = authorization;
      const body = req.body === undefined ? undefined : await req.body();
      const res = await request(url, {
        method: req.method,
        headers,
        ...(body !== undefined ? { body } : {}),
        dispatcher: req.endpoint.dispatcher,
        signal: req.signal,
      });
      const location = firstHeader(res.headers['location']);
      const canFollow = req.method === 'GET' || req.method === 'HEAD';
      if (!canFollow || location === undefined || ![301, 302, 303, 307, 308].includes(res.statusCode)) return res;
      await res.body.dump();
      if (redirects >= MAX_REDIRECTS) throw new RegistryError(`${req.operation.action} "${req.operation.ref}": too many redirects`);
      url = new URL(location, url);
    }
  }
}

/** isRetryableError tells whether an exchange that failed this way may succeed when started again (5xx, reset). */
export function isRetryableError(err: unknown): boolean {
  if (err instanceof RegistryError) {
    if (err.status !== undefined) return err.status >= 500;
    return RETRYABLE_ERRNO.has(errnoCode(err.cause) ?? '');
  }
  return RETRYABLE_ERRNO.has(errnoCode(err) ?? '');
}

/** firstHeader returns a header's first value. */
export function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function connectionError(req: RegistryRequest, err: unknown): RegistryError {
  if (err instanceof RegistryError) return err;
  const code = errnoCode(err);
  const detail = code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? 'host not found' : (code ?? (err instanceof Error ? err.message : String(err)));
  const tlsHint = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code ?? '')
    ? `trust its CA with ca = ["/path/ca.pem"] (or insecure = true) under [registry."${req.endpoint.host}"] in tbuild.toml`
    : undefined;
  return new RegistryError(`${req.operation.action} "${req.operation.ref}": cannot reach registry "${req.endpoint.host}" (${detail})`, {
    ref: req.operation.ref,
    cause: err,
    ...(tlsHint !== undefined ? { hint: tlsHint } : {}),
  });
}

/** responseError turns an unexpected response into a RegistryError, using the registry's error body when present. */
export async function responseError(operation: Operation, res: Dispatcher.ResponseData): Promise<RegistryError> {
  const status = res.statusCode;
  let detail = statusDetail(status);
  const text = await readText(res, MAX_ERROR_BODY).catch((err: unknown) => `(unreadable body: ${String(err)})`);
  try {
    const doc: unknown = JSON.parse(text);
    const first = isRecord(doc) && Array.isArray(doc['errors']) ? doc['errors'][0] : undefined;
    if (isRecord(first) && typeof first['message'] === 'string' && first['message'] !== '') detail = first['message'];
    else if (isRecord(first) && typeof first['code'] === 'string') detail = first['code'].toLowerCase().replace(/_/g, ' ');
  } catch (err) {
    // Not a distribution error document: keep the status text.
    if (!(err instanceof SyntaxError)) throw err;
  }
  const code = status === 404 ? 'REGISTRY_NOT_FOUND' : status === 401 || status === 403 ? 'REGISTRY_AUTH' : 'REGISTRY';
  return new RegistryError(`${operation.action} "${operation.ref}": ${detail}`, { code, status, ref: operation.ref });
}

function statusDetail(status: number): string {
  if (status === 401) return 'authentication required';
  if (status === 403) return 'access denied';
  if (status === 404) return 'not found';
  return `unexpected HTTP status ${status}`;
}
