import type { Dispatcher } from 'undici';
import { RegistryError } from '../base/errors.js';
import type { CredentialStore, Credentials } from './credentials.js';
import { isRecord, readText } from './read-body.js';
import { loadUndici } from './undici.js';

/** Challenge is one parsed `WWW-Authenticate` challenge. */
export interface Challenge {
  readonly scheme: 'basic' | 'bearer';
  readonly params: Readonly<Record<string, string>>;
}

/** parseChallenge parses a `WWW-Authenticate` header value (`Bearer realm="…",service="…"`). */
export function parseChallenge(header: string): Challenge | undefined {
  const match = /^\s*(\w+)\s*(.*)$/s.exec(header);
  const scheme = match?.[1]?.toLowerCase();
  if (scheme !== 'basic' && scheme !== 'bearer') return undefined;
  const params: Record<string, string> = {};
  const param = /([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g;
  for (const m of (match?.[2] ?? '').matchAll(param)) {
    const key = m[1]?.toLowerCase();
    if (key !== undefined) params[key] = (m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1');
  }
  return { scheme, params };
}

/** pullScope and pushScope are the token scopes for reading and writing a repository. */
export function pullScope(repository: string): string {
  return `repository:${repository}:pull`;
}
/** pushScope is the token scope for writing a repository. */
export function pushScope(repository: string): string {
  return `repository:${repository}:pull,push`;
}
/** mountScope is the scope for pushing to `repository` while mounting blobs from `from` (space-separated, as tokens take). */
export function mountScope(repository: string, from: string): string {
  return `${pushScope(repository)} ${pullScope(from)}`;
}

interface CachedToken {
  readonly header: string;
  readonly expiresAt: number;
}

const DEFAULT_TOKEN_LIFETIME_S = 60;
const MAX_TOKEN_RESPONSE = 1 << 20;

/** Authorizer answers the `Authorization` header for a host and scope, learning from 401 challenges. */
export class Authorizer {
  readonly #credentials: CredentialStore;
  readonly #challenges = new Map<string, Challenge>();
  readonly #tokens = new Map<string, Promise<CachedToken>>();

  constructor(credentials: CredentialStore) {
    this.#credentials = credentials;
  }

  /** authorization returns the header to send, fetching a token if the host is known to want one. */
  async authorization(
    host: string,
    options: { credentialsHost: string; scope: string; dispatcher: Dispatcher; signal: AbortSignal },
  ): Promise<string | undefined> {
    const challenge = this.#challenges.get(host);
    if (challenge === undefined) return undefined;
    const creds = await this.#credentials.credentialsFor(options.credentialsHost, { signal: options.signal });
    if (challenge.scheme === 'basic') {
      return creds?.kind === 'basic' ? basicHeader(creds.username, creds.password) : undefined;
    }
    const key = `${host} ${options.scope}`;
    const cached = this.#tokens.get(key);
    if (cached !== undefined) {
      // Concurrent requests share one token fetch; a failed or expired one is fetched again.
      const token = await cached.catch(() => undefined);
      if (token !== undefined && token.expiresAt > Date.now()) return token.header;
      if (this.#tokens.get(key) !== cached) return this.authorization(host, options);
    }
    const pending = fetchToken(challenge, { ...options, creds });
    this.#tokens.set(key, pending);
    try {
      return (await pending).header;
    } catch (err) {
      if (this.#tokens.get(key) === pending) this.#tokens.delete(key);
      throw err;
    }
  }

  /** challenged records a 401's challenge; it returns false when retrying cannot help. */
  async challenged(
    host: string,
    header: string | undefined,
    options: { credentialsHost: string; scope: string; signal: AbortSignal },
  ): Promise<boolean> {
    const challenge = header === undefined ? undefined : parseChallenge(header);
    if (challenge === undefined) return false;
    this.#challenges.set(host, challenge);
    this.#tokens.delete(`${host} ${options.scope}`);
    if (challenge.scheme === 'basic') {
      // Retrying helps only with credentials to send; the transport retries a request once, so a refusal ends there.
      const creds = await this.#credentials.credentialsFor(options.credentialsHost, { signal: options.signal });
      return creds?.kind === 'basic';
    }
    return true;
  }

  /** hasCredentials tells whether any credentials are known for a host (to word a 401 error). */
  async hasCredentials(credentialsHost: string, signal: AbortSignal): Promise<boolean> {
    return (await this.#credentials.credentialsFor(credentialsHost, { signal })) !== undefined;
  }
}

function basicHeader(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

async function fetchToken(
  challenge: Challenge,
  o: { scope: string; dispatcher: Dispatcher; signal: AbortSignal; creds: Credentials | undefined },
): Promise<CachedToken> {
  const realm = challenge.params['realm'];
  if (realm === undefined) throw new RegistryError('Cannot authenticate: the Bearer challenge has no realm', { code: 'REGISTRY_AUTH' });
  const service = challenge.params['service'];
  const url = new URL(realm);
  const { request } = await loadUndici();
  let res: Dispatcher.ResponseData;
  if (o.creds?.kind === 'identity-token') {
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: o.creds.token, client_id: 'tbuild' });
    if (o.scope !== '') form.set('scope', o.scope);
    if (service !== undefined) form.set('service', service);
    res = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
      dispatcher: o.dispatcher,
      signal: o.signal,
    });
  } else {
    if (service !== undefined) url.searchParams.set('service', service);
    // Several scopes (a push with a cross-repository mount) go as repeated `scope` parameters.
    for (const scope of o.scope.split(' ').filter((x) => x !== '')) url.searchParams.append('scope', scope);
    if (o.creds?.kind === 'basic' && o.creds.username !== '') url.searchParams.set('account', o.creds.username);
    const headers: Record<string, string> = o.creds?.kind === 'basic' ? { authorization: basicHeader(o.creds.username, o.creds.password) } : {};
    res = await request(url, { method: 'GET', headers, dispatcher: o.dispatcher, signal: o.signal });
  }
  const text = await readText(res, MAX_TOKEN_RESPONSE);
  if (res.statusCode !== 200) {
    const refused = (res.statusCode === 401 || res.statusCode === 403) && o.creds !== undefined;
    const detail = refused ? `the credentials were refused (HTTP ${res.statusCode})` : `HTTP ${res.statusCode}`;
    throw new RegistryError(`Cannot get a registry token from "${url.origin}${url.pathname}": ${detail}`, {
      code: 'REGISTRY_AUTH',
      status: res.statusCode,
      ...(refused ? { hint: 'check the user name and password, then run "tbuild login REGISTRY" again' } : {}),
    });
  }
  return parseTokenResponse(text, url.origin);
}

function parseTokenResponse(text: string, origin: string): CachedToken {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new RegistryError(`Cannot get a registry token from "${origin}": invalid JSON`, { code: 'REGISTRY_AUTH', cause: err });
  }
  const record: Record<string, unknown> = isRecord(doc) ? doc : {};
  const token = typeof record['token'] === 'string' ? record['token'] : record['access_token'];
  if (typeof token !== 'string' || token === '') {
    throw new RegistryError(`Cannot get a registry token from "${origin}": the response has no token`, { code: 'REGISTRY_AUTH' });
  }
  const lifetime = typeof record['expires_in'] === 'number' && record['expires_in'] > 0 ? record['expires_in'] : DEFAULT_TOKEN_LIFETIME_S;
  // Refresh a little early so a token never expires in flight.
  return { header: `Bearer ${token}`, expiresAt: Date.now() + lifetime * 1000 - Math.min(10_000, lifetime * 250) };
}
