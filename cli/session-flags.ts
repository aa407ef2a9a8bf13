import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { errnoReason } from '../base/errno-reason.js';
import { UsageError, errnoCode } from '../base/errors.js';
import type { Entitlement, SecretSpec, SshSpec } from '../controller/index.js';
import type { Environment } from './command-io.js';

function fields(text: string, flag: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new UsageError(`Cannot use --${flag} "${text}": expected KEY=VALUE fields`);
    out.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1));
  }
  return out;
}

/**
 * parseSecret reads `--secret id=x,src=FILE`, `id=x,env=VAR` or `type=file|env` forms, like docker buildx; `id=X`
 * alone is the variable X when it is set, else the file X. A variable's value is taken now; one that is not set gives
 * no secret (a RUN that requires it fails).
 */
export function parseSecret(text: string, place: { readonly cwd: string; readonly env: Environment }): SecretSpec | undefined {
  const f = fields(text, 'secret');
  for (const k of f.keys()) {
    if (!['id', 'type', 'src', 'source', 'env'].includes(k)) throw new UsageError(`Cannot use --secret "${text}": unexpected key "${k}"`);
  }
  const type = f.get('type');
  if (type !== undefined && type !== 'file' && type !== 'env') throw new UsageError(`Cannot use --secret "${text}": type must be file or env`);
  const src = f.get('src') ?? f.get('source');
  const env = f.get('env');
  const id = f.get('id') ?? '';
  // With only an id, BuildKit reads the environment variable of that name when it is set, else the file.
  const idOnly = type === undefined && src === undefined && env === undefined && place.env[id] !== undefined;
  if (type === 'env' || idOnly || (type === undefined && src === undefined && env !== undefined)) {
    const name = env ?? src ?? id;
    if (id === '' || name === '') throw new UsageError(`Cannot use --secret "${text}": expected id=NAME,env=VARIABLE`);
    const value = place.env[name];
    return value === undefined ? undefined : { id, kind: 'value', value: Buffer.from(value) };
  }
  const path = src ?? id;
  if (id === '' || path === '') throw new UsageError(`Cannot use --secret "${text}": expected id=NAME,src=FILE`);
  return { id, kind: 'file', path: resolve(place.cwd, path) };
}

/**
 * checkSecretFiles fails before a build when a `--secret` file cannot be found, as buildx does when it readies the
 * build's secrets (`failed to stat FILE`).
 */
export async function checkSecretFiles(secrets: readonly SecretSpec[]): Promise<void> {
  for (const s of secrets) {
    if (s.kind !== 'file') continue;
    let info;
    try {
      info = await stat(s.path);
      // Read access is checked now, as the builder reads the file only when a RUN mounts it.
      await access(s.path, constants.R_OK);
    } catch (err) {
      const why = errnoReason(err);
      throw new UsageError(`Cannot use --secret id=${s.id}: failed to stat ${s.path}${why === undefined ? '' : `: ${errnoCode(err) === 'ENOENT' ? 'no such file' : why}`}`, { cause: err });
    }
    if (info.isDirectory()) throw new UsageError(`Cannot use --secret id=${s.id}: ${s.path} is a folder, not a file`, { hint: 'src= names the file holding the secret' });
  }
}

/** parseSsh reads `--ssh default`, `--ssh id=/path/socket-or-key[,/path/key2]`. */
export function parseSsh(text: string, cwd: string): SshSpec {
  const eq = text.indexOf('=');
  const id = eq < 0 ? text : text.slice(0, eq);
  if (id === '') throw new UsageError(`Cannot use --ssh "${text}": expected ID[=SOCKET|KEY[,KEY]]`);
  const paths = eq < 0 ? [] : text.slice(eq + 1).split(',').filter((p) => p !== '').map((p) => resolve(cwd, p));
  return { id, paths };
}

/** parseAllow reads `--allow` entitlements. */
export function parseAllow(text: string): Entitlement {
  if (text === 'security.insecure' || text === 'network.host') return text;
  throw new UsageError(`Cannot use --allow=${text}: expected security.insecure or network.host`);
}

/** parseNetwork reads the build's `--network`. */
export function parseNetwork(text: string): 'default' | 'none' | 'host' {
  if (text === 'default' || text === 'none' || text === 'host') return text;
  throw new UsageError(`Cannot use --network=${text}: expected default, none or host`);
}
