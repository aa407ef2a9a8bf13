import { ConfigError } from '../base/errors.js';
import { formatReference, parseReference, type Reference } from './reference.js';

/** SHARED_CACHE_KEYS are the settings of the `[cache]` table. */
const SHARED_CACHE_KEYS = ['registry', 'mode', 'http', 'insecure', 'ca'] as const;

/** CacheHostSettings are what `[cache]` says of its registry host, as a `[registry."host"]` table would. */
export interface CacheHostSettings {
  readonly http?: boolean;
  readonly insecure: boolean;
  readonly ca: readonly string[];
}

/**
 * SharedCacheSettings is the `[cache]` table of a builder's settings file: the registry repository where every build
 * on the builder imports and exports its cache by default, one tag per project.
 *
 *   [cache]
 *   registry = "reg.example:5000/tbuild-cache"   # a repository, without tag or digest
 *   mode = "max"                                 # max (default: every step) or min (the final image's steps)
 *   http = true; insecure = true; ca = ["ca.pem"] # optional: as [registry."reg.example:5000"]
 */
export interface SharedCacheSettings {
  /** The repository, fully qualified (`reg.example:5000/tbuild-cache`). */
  readonly repository: string;
  /** Its registry host (`reg.example:5000`). */
  readonly host: string;
  readonly mode: 'min' | 'max';
  /** Set when the table gives its host http, insecure or ca. */
  readonly hostSettings?: CacheHostSettings;
}

/** sharedCacheSettingsOf reads the `[cache]` table of a parsed settings file; undefined when it has none. */
export function sharedCacheSettingsOf(doc: Record<string, unknown>, file: string): SharedCacheSettings | undefined {
  const table = doc['cache'];
  if (table === undefined) return undefined;
  const where = (key: string): string => `Cannot load config "${file}": [cache] ${key}`;
  if (typeof table !== 'object' || table === null || Array.isArray(table) || table instanceof Date) throw new ConfigError(`Cannot load config "${file}": [cache] must be a table`);
  const entries = new Map<string, unknown>(Object.entries(table));
  for (const key of entries.keys()) {
    if (!SHARED_CACHE_KEYS.some((k) => k === key)) throw new ConfigError(`${where(key)} is not a setting (${SHARED_CACHE_KEYS.join(', ')})`);
  }
  const registry = entries.get('registry');
  if (typeof registry !== 'string' || registry === '') throw new ConfigError(`${where('registry')} must be a repository such as "reg.example:5000/tbuild-cache"`);
  // The tag is the project's: a tag or digest given here would be dropped.
  if (registry.includes('@') || registry.slice(registry.lastIndexOf('/') + 1).includes(':')) {
    throw new ConfigError(`${where('registry')} must name a repository without tag or digest, not "${registry}"`, { hint: 'each project gets a tag of the repository' });
  }
  const ref = repositoryOf(registry, where);
  const mode = entries.get('mode') ?? 'max';
  if (mode !== 'min' && mode !== 'max') throw new ConfigError(`${where('mode')} must be "min" or "max"`);
  const hostSettings = hostSettingsOf(entries, where);
  return {
    repository: formatReference({ registry: ref.registry, repository: ref.repository }),
    host: ref.registry,
    mode,
    ...(hostSettings === undefined ? {} : { hostSettings }),
  };
}

function repositoryOf(text: string, where: (key: string) => string): Reference {
  try {
    return parseReference(text);
  } catch (err) {
    throw new ConfigError(`${where('registry')} is not a repository: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

function hostSettingsOf(entries: ReadonlyMap<string, unknown>, where: (key: string) => string): CacheHostSettings | undefined {
  const http = entries.get('http');
  const insecure = entries.get('insecure');
  const ca = entries.get('ca');
  if (http === undefined && insecure === undefined && ca === undefined) return undefined;
  if (http !== undefined && typeof http !== 'boolean') throw new ConfigError(`${where('http')} must be true or false`);
  if (insecure !== undefined && typeof insecure !== 'boolean') throw new ConfigError(`${where('insecure')} must be true or false`);
  if (ca !== undefined && (!Array.isArray(ca) || !ca.every((c): c is string => typeof c === 'string'))) throw new ConfigError(`${where('ca')} must be an array of strings`);
  return { ...(http === undefined ? {} : { http }), insecure: insecure ?? false, ca: ca ?? [] };
}
