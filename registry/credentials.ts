import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, errnoCode } from '../base/errors.js';
import { helperGet } from './credential-helper.js';
import { isRecord } from './read-body.js';
import { DEFAULT_REGISTRY } from './reference.js';

/** Credentials authenticate to one registry: a user and password, or an identity (refresh) token. */
export type Credentials =
  | { readonly kind: 'basic'; readonly username: string; readonly password: string }
  | { readonly kind: 'identity-token'; readonly username: string; readonly token: string };

/** CredentialStore maps registry hosts to credentials. */
export interface CredentialStore {
  credentialsFor(host: string, options?: { signal?: AbortSignal }): Promise<Credentials | undefined>;
}

/** DockerConfig is the part of Docker's config.json that concerns credentials, plus everything else kept verbatim. */
export interface DockerConfig {
  readonly file: string;
  /** The whole parsed document (other keys are preserved when it is written back). */
  readonly doc: Record<string, unknown>;
  readonly auths: Record<string, unknown>;
  readonly credsStore: string | undefined;
  readonly credHelpers: Readonly<Record<string, string>>;
}

const DOCKER_HUB_ALIASES = new Set(['index.docker.io', 'registry-1.docker.io', DEFAULT_REGISTRY]);
/** DOCKER_HUB_SERVER is the key Docker files Docker Hub credentials under. */
export const DOCKER_HUB_SERVER = 'https://index.docker.io/v1/';
/** IDENTITY_TOKEN_USER is the user name helpers and config.json use for an identity token. */
export const IDENTITY_TOKEN_USER = '<token>';

/** normaliseAuthKey turns a docker config `auths` key (`https://index.docker.io/v1/`, `host:port`) into a host. */
export function normaliseAuthKey(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//, '').split('/')[0] ?? '';
  return DOCKER_HUB_ALIASES.has(host) ? DEFAULT_REGISTRY : host;
}

/** serverAddress is the key Docker uses for a registry in config.json and credential helpers. */
export function serverAddress(host: string): string {
  return normaliseAuthKey(host) === DEFAULT_REGISTRY ? DOCKER_HUB_SERVER : host;
}

function parseEntry(entry: Record<string, unknown>): Credentials | undefined {
  let username = typeof entry['username'] === 'string' ? entry['username'] : '';
  let password = typeof entry['password'] === 'string' ? entry['password'] : '';
  if (typeof entry['auth'] === 'string' && entry['auth'] !== '') {
    const decoded = Buffer.from(entry['auth'], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon !== -1) {
      username = decoded.slice(0, colon);
      password = decoded.slice(colon + 1);
    }
  }
  if (typeof entry['identitytoken'] === 'string' && entry['identitytoken'] !== '') {
    return { kind: 'identity-token', username, token: entry['identitytoken'] };
  }
  return username !== '' || password !== '' ? { kind: 'basic', username, password } : undefined;
}

/** readDockerConfig reads `<dir>/config.json`; a missing file reads as an empty config. */
export async function readDockerConfig(dir: string): Promise<DockerConfig> {
  const file = join(dir, 'config.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return { file, doc: {}, auths: {}, credsStore: undefined, credHelpers: {} };
    throw new ConfigError(`Cannot read Docker config "${file}"`, { cause: err });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`Cannot parse Docker config "${file}": invalid JSON`, { cause: err });
  }
  const record = isRecord(doc) ? doc : {};
  const auths = isRecord(record['auths']) ? record['auths'] : {};
  const credsStore = typeof record['credsStore'] === 'string' && record['credsStore'] !== '' ? record['credsStore'] : undefined;
  const credHelpers: Record<string, string> = {};
  const helpers = record['credHelpers'];
  if (isRecord(helpers)) {
    for (const [key, value] of Object.entries(helpers)) if (typeof value === 'string' && value !== '') credHelpers[normaliseAuthKey(key)] = value;
  }
  return { file, doc: record, auths, credsStore, credHelpers };
}

/** helperFor names the credential helper that holds a host's credentials, if any (credHelpers first, then credsStore). */
export function helperFor(config: DockerConfig, host: string): string | undefined {
  return config.credHelpers[normaliseAuthKey(host)] ?? config.credsStore;
}

/** credentialStoreOf answers credentials from a Docker config: per-host helper, the default store, then `auths`. */
export function credentialStoreOf(config: DockerConfig): CredentialStore {
  const byHost = new Map<string, Credentials>();
  for (const [key, entry] of Object.entries(config.auths)) {
    const creds = isRecord(entry) ? parseEntry(entry) : undefined;
    if (creds !== undefined) byHost.set(normaliseAuthKey(key), creds);
  }
  const fromHelpers = new Map<string, Promise<Credentials | undefined>>();
  const askHelper = async (helper: string, host: string, signal: AbortSignal): Promise<Credentials | undefined> => {
    const got = await helperGet(helper, serverAddress(host), { signal });
    if (got === undefined) return undefined;
    return got.username === IDENTITY_TOKEN_USER
      ? { kind: 'identity-token', username: got.username, token: got.secret }
      : { kind: 'basic', username: got.username, password: got.secret };
  };
  return {
    async credentialsFor(host, options = {}) {
      const key = normaliseAuthKey(host);
      const helper = helperFor(config, key);
      if (helper !== undefined) {
        let pending = fromHelpers.get(key);
        if (pending === undefined) {
          pending = askHelper(helper, key, options.signal ?? AbortSignal.timeout(30_000));
          fromHelpers.set(key, pending);
        }
        const creds = await pending;
        if (creds !== undefined) return creds;
      }
      return byHost.get(key);
    },
  };
}

/**
 * loadDockerCredentials reads `<dir>/config.json` (auths, credsStore, credHelpers); a missing file, or no folder given
 * (the caller has no Docker config), means no credentials.
 */
export async function loadDockerCredentials(dir: string | undefined): Promise<CredentialStore> {
  if (dir === undefined) return credentialStoreOf({ file: '', doc: {}, auths: {}, credsStore: undefined, credHelpers: {} });
  return credentialStoreOf(await readDockerConfig(dir));
}
