import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, TomlError } from 'smol-toml';
import { ConfigError, errnoCode } from '../base/errors.js';
import { sharedCacheSettingsOf, type SharedCacheSettings } from './shared-cache-settings.js';

/** RegistryHostConfig is one `[registry."host"]` table, as in buildkitd.toml. */
export interface RegistryHostConfig {
  /** Hosts (`host[:port]`, optionally with a path prefix) tried in order before the origin. */
  readonly mirrors: readonly string[];
  /** true: plain HTTP; false: HTTPS even for loopback; undefined: HTTP only for loopback. */
  readonly http?: boolean;
  /** Skip TLS certificate verification. */
  readonly insecure: boolean;
  /** Extra CA certificate files (PEM) trusted for this host. */
  readonly ca: readonly string[];
}

/** RegistryConfig maps registry hosts to their settings. */
export interface RegistryConfig {
  readonly registries: ReadonlyMap<string, RegistryHostConfig>;
}

/** EMPTY_REGISTRY_CONFIG is the configuration used when no file exists. */
export const EMPTY_REGISTRY_CONFIG: RegistryConfig = { registries: new Map() };

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function stringList(file: string, where: string, value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v): v is string => typeof v === 'string')) {
    throw new ConfigError(`Cannot load config "${file}": ${where} must be an array of strings`);
  }
  return value;
}

function optionalBool(file: string, where: string, value: unknown): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  throw new ConfigError(`Cannot load config "${file}": ${where} must be true or false`);
}

function hostConfig(file: string, host: string, value: unknown): RegistryHostConfig {
  const where = `[registry."${host}"]`;
  if (!isTable(value)) throw new ConfigError(`Cannot load config "${file}": ${where} must be a table`);
  const http = optionalBool(file, `${where} http`, value['http']);
  return {
    mirrors: stringList(file, `${where} mirrors`, value['mirrors']),
    ...(http !== undefined ? { http } : {}),
    insecure: optionalBool(file, `${where} insecure`, value['insecure']) ?? false,
    ca: stringList(file, `${where} ca`, value['ca']),
  };
}

/** parseSettings parses the settings file's TOML, naming the line and column of a syntax error. */
export function parseSettings(text: string, file: string): Record<string, unknown> {
  try {
    return parse(text);
  } catch (err) {
    if (err instanceof TomlError) {
      const detail = err.message.split('\n')[0] ?? err.message;
      throw new ConfigError(`Cannot parse config "${file}" at line ${err.line}, column ${err.column}: ${detail}`, {
        cause: err,
      });
    }
    throw err;
  }
}

/**
 * readSettings reads the settings file at path; undefined when none is given. Which file a caller's builds use by
 * default is the caller's to say (the CLI picks it from the user and the environment), never read here.
 */
export async function readSettings(path: string | undefined): Promise<{ readonly file: string; readonly doc: Record<string, unknown> } | undefined> {
  if (path === undefined) return undefined;
  const file = path;
  let identity: string;
  let text: string;
  try {
    identity = fileIdentity(await stat(file));
    const known = parsedSettings.get(file);
    if (known?.identity === identity) return { file, doc: known.doc };
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`Cannot read config "${file}": ${errnoCode(err) ?? String(err)}`, { cause: err });
  }
  const doc = parseSettings(text, file);
  parsedSettings.set(file, { identity, doc });
  return { file, doc };
}

/**
 * The settings files this process parsed, by path, with the identity (inode, size, change times) of what was read: a
 * build reads its settings file for each part (registries, history, collection, tag checks) and a resident builder for
 * every build, and each read after the first is a stat while the file is unchanged.
 */
const parsedSettings = new Map<string, { readonly identity: string; readonly doc: Record<string, unknown> }>();

function fileIdentity(s: { ino: number; size: number; mtimeMs: number; ctimeMs: number }): string {
  return `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
}

/** SettingsTable is one top-level table of the settings file, its keys checked against the known ones. */
export interface SettingsTable {
  readonly entries: ReadonlyMap<string, unknown>;
  /** where names a setting in an error: `Cannot load config "FILE": [table] key`. */
  where(key: string): string;
}

/** readSettingsTable reads the `[name]` table of the settings file (undefined when absent), refusing unknown keys. */
export async function readSettingsTable(path: string | undefined, name: string, keys: readonly string[]): Promise<SettingsTable | undefined> {
  const settings = await readSettings(path);
  const table = settings?.doc[name];
  if (settings === undefined || table === undefined) return undefined;
  const where = (key: string): string => `Cannot load config "${settings.file}": [${name}] ${key}`;
  if (!isTable(table)) throw new ConfigError(`Cannot load config "${settings.file}": [${name}] must be a table`);
  const entries = new Map<string, unknown>(Object.entries(table));
  for (const key of entries.keys()) {
    if (!keys.includes(key)) throw new ConfigError(`${where(key)} is not a setting (${keys.join(', ')})`);
  }
  return { entries, where };
}

/** parseRegistryConfig reads the `[registry.*]` tables of a TOML document; other tables are ignored. */
export function parseRegistryConfig(text: string, file: string): RegistryConfig {
  return registryConfigOf(parseSettings(text, file), file);
}

function registryConfigOf(doc: Record<string, unknown>, file: string): RegistryConfig {
  const section = doc['registry'] ?? {};
  if (!isTable(section)) throw new ConfigError(`Cannot load config "${file}": [registry] must be a table`);
  const registries = new Map<string, RegistryHostConfig>();
  for (const [host, value] of Object.entries(section)) registries.set(host, hostConfig(file, host, value));
  // [cache] http, insecure and ca are its registry's host settings, as a [registry."host"] table of their own.
  const cache = sharedCacheSettingsOf(doc, file);
  if (cache?.hostSettings !== undefined) {
    if (registries.has(cache.host)) {
      throw new ConfigError(`Cannot load config "${file}": [cache] http, insecure or ca set what [registry."${cache.host}"] sets`, { hint: `set them in [registry."${cache.host}"] only` });
    }
    registries.set(cache.host, { mirrors: [], ...cache.hostSettings });
  }
  return registries.size === 0 ? EMPTY_REGISTRY_CONFIG : { registries };
}

/** readSharedCacheSettings reads the `[cache]` table of the settings file at path; undefined without file or table. */
export async function readSharedCacheSettings(path: string | undefined): Promise<SharedCacheSettings | undefined> {
  const settings = await readSettings(path);
  return settings === undefined ? undefined : sharedCacheSettingsOf(settings.doc, settings.file);
}

/** loadRegistryConfig loads registry settings from path (none given: no settings). */
export async function loadRegistryConfig(path: string | undefined): Promise<RegistryConfig> {
  const settings = await readSettings(path);
  return settings === undefined ? EMPTY_REGISTRY_CONFIG : registryConfigOf(settings.doc, settings.file);
}

/** hostConfigFor returns the settings of one registry host (defaults when unconfigured). */
export function hostConfigFor(config: RegistryConfig, host: string): RegistryHostConfig {
  return config.registries.get(host) ?? { mirrors: [], insecure: false, ca: [] };
}
