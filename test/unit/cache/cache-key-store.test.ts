import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { digestOf } from '../../../base/digest.js';
import { createCacheKeyStore, createLocalContentStore, createSnapshotter, createStoreLease, openMetadataStore, prune } from '../../../cache/index.js';
import { describeCacheKeyStorage } from '../../contracts/cache-key-storage.js';
import { makeTempDir } from '../../helpers/cli.js';

describeCacheKeyStorage('the metadata database (cache/)', async () => {
  const tmp = await makeTempDir();
  const meta = openMetadataStore(join(tmp.path, 'meta'));
  return {
    storage: createCacheKeyStore(meta),
    [Symbol.asyncDispose]: async () => {
      await meta.close();
      await tmp[Symbol.asyncDispose]();
    },
  };
});

describeCacheKeyStorage('the metadata database, looked up under a held lease (cache/)', async () => {
  const tmp = await makeTempDir();
  const meta = openMetadataStore(join(tmp.path, 'meta'));
  const lease = createStoreLease(meta);
  const held = await lease.hold();
  return {
    storage: createCacheKeyStore(meta, lease),
    [Symbol.asyncDispose]: async () => {
      // What the storage found and wrote is in the lease, and goes with it.
      expect([...meta.leaseResources.getKeys()].length).toBeGreaterThanOrEqual([...meta.cacheRecords.getKeys()].length);
      await held[Symbol.asyncDispose]();
      expect([...meta.leaseResources.getKeys()]).toEqual([]);
      await meta.close();
      await tmp[Symbol.asyncDispose]();
    },
  };
});

describe('cache key store over the metadata database', () => {
  it('reads the cache records earlier versions wrote, and dates their use', async () => {
    await using tmp = await makeTempDir();
    const meta = openMetadataStore(join(tmp.path, 'meta'));
    try {
      const key = digestOf('recorded before preimages existed');
      await meta.cacheRecords.put(key, { snapshotId: 'snap', createdAt: 1, lastUsedAt: 2, description: 'RUN make' });
      const store = createCacheKeyStore(meta);
      expect(store.lookup(key)).toEqual({ resultId: 'snap', createdAt: 1, lastUsedAt: 2, description: 'RUN make' });
      expect(store.preimage(key)).toBeUndefined();
      await store.markUsed(key);
      expect(meta.cacheRecords.get(key)?.lastUsedAt).toBeGreaterThan(2);
      expect(store.oldestUse()).toBeGreaterThan(2);
    } finally {
      await meta.close();
    }
  });

  it('finds a result as soon as it is recorded, before its write is durable, and keeps it once it is', async () => {
    await using tmp = await makeTempDir();
    const meta = openMetadataStore(join(tmp.path, 'meta'));
    try {
      const lease = createStoreLease(meta);
      await using _held = await lease.hold();
      const store = createCacheKeyStore(meta, lease);
      const key = digestOf('recorded while the build goes on');
      const writing = store.record(key, { resultId: null, description: 'RUN true' });
      expect(meta.cacheRecords.get(key)).toBeUndefined();
      expect(store.lookup(key)).toMatchObject({ resultId: null, description: 'RUN true' });
      await expect(store.link(digestOf('another key'), key)).resolves.toBe(true);
      await writing;
      expect(meta.cacheRecords.get(key)).toMatchObject({ snapshotId: null, description: 'RUN true' });
      expect(lease.has('cache-record', key)).toBe(true);
      expect(meta.cacheRecords.get(digestOf('another key'))).toMatchObject({ snapshotId: null });
    } finally {
      await meta.close();
    }
  });

  it('fails the caller when the last use cannot be written, instead of dropping the error', async () => {
    await using tmp = await makeTempDir();
    const meta = openMetadataStore(join(tmp.path, 'meta'));
    const key = digestOf('used after the database closed');
    await meta.cacheRecords.put(key, { snapshotId: 'snap', createdAt: 1, lastUsedAt: 2, description: 'RUN make' });
    const store = createCacheKeyStore(meta);
    await meta.close();
    await expect(store.markUsed(key)).rejects.toThrow();
  });

  it('drops preimages with their records when collecting, and those of keys never recorded once a day old', async () => {
    await using tmp = await makeTempDir();
    const meta = openMetadataStore(join(tmp.path, 'meta'));
    try {
      const store = createCacheKeyStore(meta);
      const preimage = { type: 'rerun', key: digestOf('k'), content: digestOf('c') };
      for (const name of ['kept', 'pruned', 'fresh orphan']) await store.recordPreimage(digestOf(name), preimage);
      await meta.keyPreimages.put(digestOf('old orphan'), { recordedAt: Date.now() - 2 * 24 * 3600 * 1000, preimage });
      await store.record(digestOf('kept'), { resultId: null, description: 'kept' });
      await meta.cacheRecords.put(digestOf('pruned'), { snapshotId: null, createdAt: 0, lastUsedAt: 0, description: 'pruned' });
      const parts = { meta, snapshotter: createSnapshotter(join(tmp.path, 'snapshots'), meta), content: createLocalContentStore(join(tmp.path, 'content')) };
      await prune(parts, { all: false, keepDurationMs: 3_600_000 });
      expect(['kept', 'pruned', 'fresh orphan', 'old orphan'].map((n) => store.preimage(digestOf(n)) !== undefined)).toEqual([true, false, true, false]);
    } finally {
      await meta.close();
    }
  });
});
