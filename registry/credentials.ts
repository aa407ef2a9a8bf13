import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, errnoCode } from '../base/errors.js';
import { DEFAULT_REGISTRY } from './reference.js';

/** Credentials authenticate to one registry: a user and password, or an identity (refresh) token. */
export type Credentials =
  | { readonly kind: 'basic'; readonly username: string; readonly password: string }
  | { readonly kind: 'identity-token'; readonly username: string; readonly token: string };

/** CredentialStore maps registry hosts to credentials. */
export interface CredentialStore {
  credentialsFor(host: string): Credentials | undefined;
}

const DOCKER_HUB_ALIASES = new Set(['index.docker.io', 'registry-1.docker.io', DEFAULT_REGISTRY]);

/** normaliseAuthKey turns a docker config `auths` key (`https://index.docker.io/v1/`, `host:port`) into a host. */
export function normaliseAuthKey(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//, '').split('/')[0] ?? '';
  return DOCKER_HUB_ALIASES.has(host) ? DEFAULT_REGISTRY : host;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
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

/** dockerConfigDir returns `$DOCKER_CONFIG` or `~/.docker`. */
export function dockerConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return env['DOCKER_CONFIG'] || join(homedir(), '.docker');
}

/** loadDockerCredentials reads the `auths` of `<dir>/config.json`; a missing file means no credentials. */
export async function loadDockerCredentials(dir: string = dockerConfigDir()): Promise<CredentialStore> {
  const file = join(dir, 'config.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return { credentialsFor: () => undefined };
    throw new ConfigError(`Cannot read Docker config "${file}"`, { cause: err });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`Cannot parse Docker config "${file}": invalid JSON`, { cause: err });
  }
  const byHost = new Map<string, Credentials>();
  const auths = isRecord(doc) ? doc['auths'] : undefined;
  if (isRecord(auths)) {
    for (const [key, entry] of Object.entries(auths)) {
      const creds = isRecord(entry) ? parseEntry(entry) : undefined;
      if (creds !== undefined) byHost.set(normaliseAuthKey(key), creds);
    }
  }
  return { credentialsFor: (host) => byHost.get(normaliseAuthKey(host)) };
}
