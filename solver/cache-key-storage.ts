import type { CacheKeyPreimage } from './cache-key.js';

/** CacheResult is a result recorded under a cache key: the id of what holds it (a snapshot; null is the empty one). */
export interface CacheResult {
  readonly resultId: string | null;
  readonly createdAt: number;
  readonly lastUsedAt: number;
  /** What made it, for people (a vertex name, a layer). */
  readonly description: string;
}

/** NewCacheResult is a result to record under a key. */
export interface NewCacheResult {
  readonly resultId: string | null;
  readonly description: string;
  /** When it was made (ms since the epoch); now when absent. */
  readonly createdAt?: number;
}

/**
 * CacheKeyStorage keeps what the solver knows by cache key: the results recorded under keys, and what each key was
 * computed from. BuildKit's solver.CacheKeyStorage plays this part; cache/ implements it over the metadata database,
 * whose reads are synchronous (memory-mapped), so lookups here are too.
 */
export interface CacheKeyStorage {
  // Keys are cache keys, or names results are also recorded under (`layer:<chain id>` for unpacked image layers).
  /** lookup returns the result recorded under a key. */
  lookup(key: string): CacheResult | undefined;
  /** markUsed dates the last use of the result recorded under a key to now (collection keeps recent ones). */
  markUsed(key: string): Promise<void>;
  /** oldestUse is the earliest last use of any recorded result (ms since the epoch), undefined when none is recorded. */
  oldestUse(): number | undefined;
  /**
   * record records a result under a key, replacing any record there. lookup and link find it at once; the promise
   * resolves once it is durable.
   */
  record(key: string, result: NewCacheResult): Promise<void>;
  /** link records the result recorded under `existing` under `key` too; false when `existing` has none. */
  link(key: string, existing: string): Promise<boolean>;
  /** recordPreimage keeps what a key was computed from (a key's preimage never changes: the first one stays). */
  recordPreimage(key: string, preimage: CacheKeyPreimage): Promise<void>;
  /**
   * preimage returns what a key was computed from, when it was recorded: as the tbuild that recorded it described it
   * (see its `version`), so callers check its form.
   */
  preimage(key: string): unknown;
}
