import { randomBytes, createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { errnoCode } from '../base/errors.js';

/** ClientEnv is the client's environment, given explicitly. */
export type ClientEnv = Readonly<Record<string, string | undefined>>;

/** configHome is the client's settings folder: $XDG_CONFIG_HOME, else ~/.config. */
export function configHome(env: ClientEnv): string {
  return env['XDG_CONFIG_HOME'] || join(env['HOME'] ?? homedir(), '.config');
}

function cacheHome(env: ClientEnv): string {
  return env['XDG_CACHE_HOME'] || join(env['HOME'] ?? homedir(), '.cache');
}

/** writeFileAtomic replaces a file's content in one rename. */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, data, { mode });
  await rename(tmp, path);
}

/** clientId returns this installation's random id (created on first use in ~/.config/tbuild/client-id). */
export async function clientId(env: ClientEnv): Promise<string> {
  const path = join(configHome(env), 'tbuild', 'client-id');
  try {
    const id = (await readFile(path, 'utf8')).trim();
    if (/^[a-f0-9]{32}$/.test(id)) return id;
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
  const id = randomBytes(16).toString('hex');
  await writeFileAtomic(path, `${id}\n`, 0o600);
  return id;
}

/** contextKey names a context folder for the server: the hex sha256 of its absolute path. */
export function contextKey(contextDir: string): string {
  return createHash('sha256').update(contextDir).digest('hex');
}

/**
 * projectKey is the hex sha256 of a build's routing identity: the server keys its shared cache by it. A build whose
 * context or Dockerfile comes from standard input has no place to be known by: its Dockerfile's bytes are hashed too,
 * so that every piped build does not share one cache.
 */
export function projectKey(routingKey: string, piped?: Uint8Array): string {
  const hash = createHash('sha256').update(routingKey);
  if (piped !== undefined) hash.update('\n').update(piped);
  return hash.digest('hex');
}

/** checksumMemoPath is where the client remembers file checksums of one context, keyed by stat. */
export function checksumMemoPath(key: string, env: ClientEnv): string {
  return join(cacheHome(env), 'tbuild', 'context-checksums', `${key}.json`);
}
