import { NO_LEASE, type StoreLease } from './leases.js';
import type { CacheRecordValue, MetadataStore } from './metadata.js';

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
  /** lookup finds a key's result, adding the record and its snapshot to the build's lease. */
  lookup(key: string): StoredResult | undefined;
  /** markUsed dates a record's last use to now, once the write is committed. */
  markUsed(key: string): Promise<void>;
  /** oldestUse is the earliest last use of any record, undefined when there is none. */
  oldestUse(): number | undefined;
  /**
   * record writes a result under a key. The promise resolves once the record is durable; until then lookup and link of
   * this store already find it, so the caller need not wait.
   */
  record(key: string, result: NewStoredResult): Promise<void>;
  link(key: string, existing: string): Promise<boolean>;
  recordPreimage(key: string, preimage: unknown): Promise<void>;
  /** preimage returns what a key was computed from, as the tbuild that recorded it described it. */
  preimage(key: string): unknown;
}

/**
 * createCacheKeyStore keeps results in the cache records table, as every tbuild root has them, and preimages
 * beside them. Records written by earlier versions read as they are; they simply have no preimage. Records found and
 * written go into `lease` with their snapshots, in the transaction that reads or writes them.
 */
export function createCacheKeyStore(meta: Pick<MetadataStore, 'cacheRecords' | 'keyPreimages' | 'snapshots'>, lease: StoreLease = NO_LEASE): CacheKeyStore {
  const stored = (rec: CacheRecordValue): StoredResult => ({ resultId: rec.snapshotId, createdAt: rec.createdAt, lastUsedAt: rec.lastUsedAt, description: rec.description });
  const isLeased = (key: string, rec: CacheRecordValue): boolean => lease.has('cache-record', key) && (rec.snapshotId === null || lease.has('snapshot', rec.snapshotId));
  // Records being written: found by lookup before their transaction commits (they are this process's, leased as written).
  const writing = new Map<string, StoredResult>();
  const lookup = (key: string): StoredResult | undefined => {
    const pending = writing.get(key);
    if (pending !== undefined) return pending;
    const seen = meta.cacheRecords.get(key);
    // A miss needs no transaction: a record written meanwhile by another build is found by the next lookup.
    if (seen === undefined) return undefined;
    if (isLeased(key, seen)) return stored(seen);
    const rec = lease.useSync((add) => {
      const found = meta.cacheRecords.get(key);
      if (found === undefined) return undefined;
      add('cache-record', key);
      if (found.snapshotId !== null && meta.snapshots.get(found.snapshotId) !== undefined) add('snapshot', found.snapshotId);
      return found;
    });
    return rec === undefined ? undefined : stored(rec);
  };
  const record = async (key: string, result: NewStoredResult): Promise<void> => {
    const now = Date.now();
    const value: CacheRecordValue = { snapshotId: result.resultId, createdAt: result.createdAt ?? now, lastUsedAt: now, description: result.description };
    const shown = stored(value);
    writing.set(key, shown);
    try {
      await lease.use((add) => {
        meta.cacheRecords.putSync(key, value);
        add('cache-record', key);
      });
    } finally {
      // A later record of the same key replaced this one in the map: that one's write removes it.
      if (writing.get(key) === shown) writing.delete(key);
    }
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
      if (meta.keyPreimages.doesExist(key)) return;
      await meta.keyPreimages.put(key, { recordedAt: Date.now(), preimage });
    },
    preimage: (key) => meta.keyPreimages.get(key)?.preimage,
  };
}
