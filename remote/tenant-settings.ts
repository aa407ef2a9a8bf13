import { dirname, resolve } from 'node:path';
import { ConfigError } from '../base/errors.js';
import { checkTenantName } from './tokens-file.js';

/** TenantPolicy is one `[tenants.NAME]` table of the server's settings file. */
export interface TenantPolicy {
  readonly name: string;
  /** Bearer tokens that identify the tenant, besides those of the tokens file. */
  readonly tokens: readonly string[];
  /** Client certificate names (subject CN, or a DNS, email or URI subject alternative name) that identify the tenant. */
  readonly certNames: readonly string[];
  /** Builds of the tenant admitted at once (syncing, queued in the builder or running); unbounded when absent. */
  readonly maxBuilds?: number;
  /** Builds of the tenant waiting for one of its max-builds; one more fails at once. Unbounded when absent. */
  readonly maxQueued?: number;
}

/** TenantSettings are the server's `[serve]` and `[tenants.*]` settings. */
export interface TenantSettings {
  /** The `NAME TOKEN` file, read again whenever it changes. */
  readonly tokensFile?: string;
  /** One build cache for every tenant; otherwise each tenant builds in a store of its own. */
  readonly shareCache: boolean;
  /**
   * Lend the server's own registry credentials (its Docker config.json) to builds whose client has none for a host.
   * Off by default: a build uses its client's credentials only.
   */
  readonly serverCredentials: boolean;
  readonly tenants: ReadonlyMap<string, TenantPolicy>;
}

/** NO_TENANT_SETTINGS are the settings of a server whose settings file says nothing of tenants. */
export const NO_TENANT_SETTINGS: TenantSettings = { shareCache: false, serverCredentials: false, tenants: new Map() };

const SERVE_KEYS = ['tokens-file', 'share-cache', 'server-credentials'];
const TENANT_KEYS = ['tokens', 'cert-names', 'max-builds', 'max-queued'];

function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function checkKeys(table: Record<string, unknown>, keys: readonly string[], where: (k: string) => string): void {
  for (const k of Object.keys(table)) if (!keys.includes(k)) throw new ConfigError(`${where(k)} is not a setting (${keys.join(', ')})`);
}

function strings(v: unknown, where: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((s): s is string => typeof s === 'string' && s !== '')) throw new ConfigError(`${where} must be an array of non-empty strings`);
  return v;
}

function count(v: unknown, where: string, least: number): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < least) throw new ConfigError(`${where} must be a whole number ≥ ${least}`);
  return v;
}

/**
 * parseTenantSettings reads the tenant settings of a parsed settings file (`file` names it in errors, and relative
 * paths are of its folder):
 *
 *   [serve]
 *   tokens-file = "tokens"      # NAME TOKEN lines
 *   share-cache = false         # default: a store per tenant
 *   server-credentials = false  # default: builds use their client's registry credentials only
 *
 *   [tenants.ci]
 *   tokens = ["…"]              # bearer tokens of the tenant
 *   cert-names = ["ci.example"] # client certificate CN or SAN
 *   max-builds = 2
 *   max-queued = 8
 */
export function parseTenantSettings(doc: Record<string, unknown>, file: string): TenantSettings {
  const at = (table: string) => (k: string) => `Cannot load config "${file}": [${table}] ${k}`;
  const serve = doc['serve'] ?? {};
  if (!isTable(serve)) throw new ConfigError(`Cannot load config "${file}": [serve] must be a table`);
  checkKeys(serve, SERVE_KEYS, at('serve'));
  const tokensFile = serve['tokens-file'];
  if (tokensFile !== undefined && (typeof tokensFile !== 'string' || tokensFile === '')) throw new ConfigError(`${at('serve')('tokens-file')} must be a file name`);
  const shareCache = serve['share-cache'] ?? false;
  if (typeof shareCache !== 'boolean') throw new ConfigError(`${at('serve')('share-cache')} must be true or false`);
  const serverCredentials = serve['server-credentials'] ?? false;
  if (typeof serverCredentials !== 'boolean') throw new ConfigError(`${at('serve')('server-credentials')} must be true or false`);
  const section = doc['tenants'] ?? {};
  if (!isTable(section)) throw new ConfigError(`Cannot load config "${file}": [tenants] must be a table of [tenants.NAME] tables`);
  const tenants = new Map<string, TenantPolicy>();
  const tokenOwner = new Map<string, string>();
  const certOwner = new Map<string, string>();
  for (const [name, table] of Object.entries(section)) {
    const where = at(`tenants.${name}`);
    checkTenantName(name, `Cannot load config "${file}": [tenants.${name}]`);
    if (!isTable(table)) throw new ConfigError(`Cannot load config "${file}": [tenants.${name}] must be a table`);
    checkKeys(table, TENANT_KEYS, where);
    const policy: TenantPolicy = {
      name,
      tokens: strings(table['tokens'], where('tokens')),
      certNames: strings(table['cert-names'], where('cert-names')),
      ...optional('maxBuilds', count(table['max-builds'], where('max-builds'), 1)),
      ...optional('maxQueued', count(table['max-queued'], where('max-queued'), 0)),
    };
    claim(tokenOwner, policy.tokens, name, (other) => `${where('tokens')}: a token of tenant "${name}" is also a token of tenant "${other}"`);
    claim(certOwner, policy.certNames, name, (other, cn) => `${where('cert-names')}: "${cn}" also names tenant "${other}"`);
    tenants.set(name, policy);
  }
  return { ...(tokensFile === undefined ? {} : { tokensFile: resolve(dirname(file), tokensFile) }), shareCache, serverCredentials, tenants };
}

function optional<K extends string>(key: K, v: number | undefined): Partial<Record<K, number>> {
  const out: Partial<Record<K, number>> = {};
  if (v !== undefined) out[key] = v;
  return out;
}

function claim(owners: Map<string, string>, values: readonly string[], name: string, message: (other: string, value: string) => string): void {
  for (const v of values) {
    const other = owners.get(v);
    if (other !== undefined && other !== name) throw new ConfigError(message(other, v));
    owners.set(v, name);
  }
}
