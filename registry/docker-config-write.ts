import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ConfigError } from '../base/errors.js';
import { helperErase, helperStore } from './credential-helper.js';
import { helperFor, normaliseAuthKey, readDockerConfig, serverAddress, type DockerConfig } from './credentials.js';

/** SavedLogin says where `saveLogin` put the credentials. */
export interface SavedLogin {
  readonly file: string;
  /** The credential helper used, or undefined when the password went into config.json (base64, not encrypted). */
  readonly helper: string | undefined;
}

/** saveLogin stores credentials for a registry as `docker login` does: through the configured helper, else in `auths`. */
export async function saveLogin(
  dir: string,
  host: string,
  creds: { username: string; password: string },
  options: { signal: AbortSignal },
): Promise<SavedLogin> {
  const config = await readDockerConfig(dir);
  const server = serverAddress(host);
  const helper = helperFor(config, host);
  const auths = withoutHost(config.auths, host);
  if (helper !== undefined) {
    await helperStore(helper, { serverUrl: server, username: creds.username, secret: creds.password }, options);
    // Docker keeps an empty entry so `docker info` and others can list the registry.
    auths[server] = {};
  } else {
    auths[server] = { auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') };
  }
  await writeConfig(config, { ...config.doc, auths });
  return { file: config.file, helper };
}

/** removeLogin forgets a registry's credentials (helper and `auths`); it returns false when there were none. */
export async function removeLogin(dir: string, host: string, options: { signal: AbortSignal }): Promise<boolean> {
  const config = await readDockerConfig(dir);
  const helper = helperFor(config, host);
  if (helper !== undefined) await helperErase(helper, serverAddress(host), options);
  const auths = withoutHost(config.auths, host);
  const had = Object.keys(auths).length !== Object.keys(config.auths).length;
  if (had) await writeConfig(config, { ...config.doc, auths });
  return had || helper !== undefined;
}

function withoutHost(auths: Record<string, unknown>, host: string): Record<string, unknown> {
  const key = normaliseAuthKey(host);
  return Object.fromEntries(Object.entries(auths).filter(([k]) => normaliseAuthKey(k) !== key));
}

async function writeConfig(config: DockerConfig, doc: Record<string, unknown>): Promise<void> {
  const tmp = `${config.file}.${process.pid}.tmp`;
  try {
    await mkdir(dirname(config.file), { recursive: true, mode: 0o700 });
    await writeFile(tmp, `${JSON.stringify(doc, null, '\t')}\n`, { mode: 0o600 });
    await chmod(tmp, 0o600);
    await rename(tmp, config.file);
  } catch (err) {
    throw new ConfigError(`Cannot write Docker config "${config.file}"`, { cause: err });
  }
}
