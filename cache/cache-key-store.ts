import type { MetadataStore } from './metadata.js';

/** StoredResult is a result recorded under a cache key: its snapshot (null is the empty filesystem). */
export interface StoredResult {
  readonly resultId: string | null;
  readonly createdAt: number;
  readonly lastUsedAt: number;
  readonly description: string;
}

/** NewStoredResult is a result to record under a key; createdAt defaults to now. */
export interface NewStoredResult {
  readonly resultId: string | null;
  readonly description: string;
  readonly createdAt?: number;
}

/**
 * CacheKeyStore keeps results and preimages by cache key: the solver's CacheKeyStorage over the metadata database.
 * It matches that interface by shape, since cache/ sits below the solver and may not import it.
 */
export interface CacheKeyStore {
  lookup(key: string): StoredResult | undefined;
  /** markUsed dates a record's last use to now, once the write is committed. */
  markUsed(key: string): Promise<void>;
  /** oldestUse is the earliest last use of any record, undefined when there is none. */
  oldestUse(): number | undefined;
  record(key: string, result: NewStoredResult): Promise<void>;
  link(key: string, existing: string): Promise<boolean>;
  recordPreimage(key: string, preimage: unknown): Promise<void>;
  /** preimage returns what a key was computed from, as the tbuild that recorded it described it. */
  preimage(key: string): unknown;
}

/**
 * createCacheKeyStore keeps results in the cache records table, as every tbuild root has them, and preimages
 * beside them. Records written by earlier versions read as they are; they simply have no preimage.
 */
export function createCacheKeyStore(meta: Pick<MetadataStore, 'cacheRecords' | 'keyPreimages'>): CacheKeyStore {
  const lookup = (key: string): StoredResult | undefined => {
    const rec = meta.cacheRecords.get(key);
    return rec === undefined ? undefined : { resultId: rec.snapshotId, createdAt: rec.createdAt, lastUsedAt: rec.lastUsedAt, description: rec.description };
  };
  const record = async (key: string, result: NewStoredResult): Promise<void> => {
    const now = Date.now();
    await meta.cacheRecords.put(key, { snapshotId: result.resultId, createdAt: result.createdAt ?? now, lastUsedAt: now, description: result.description });
  };
  return {
    lookup,
    async markUsed(key) {
      const found = meta.cacheRecords.get(key);
      if (found !== undefined) await meta.cacheRecords.put(key, { ...found, lastUsedAt: Date.now() });
    },
    oldestUse() {
      let oldest: number | undefined;
      for (const { value } of meta.cacheRecords.getRange()) oldest = Math.min(oldest ?? value.lastUsedAt, value.lastUsedAt);
      return oldest;
    },
    record,
    async link(key, existing) {
      const found = lookup(existing);
      if (found === undefined) return false;
      await record(key, { resultId: found.resultId, description: found.description });
      return true;
    },
    async recordPreimage(key, preimage) {
      if (meta.keyPreimages.get(key) !== undefined) return;
      await meta.keyPreimages.put(key, { recordedAt: Date.now(), preimage });
    },
    preimage: (key) => meta.keyPreimages.get(key)?.preimage,
  };
}
