import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { digestOf } from '../../base/digest.js';
import { hostPlatform } from '../../base/oci.js';
import { computeVertexKey, type CacheKeyStorage } from '../../solver/index.js';

/** StorageUnderTest is a storage and how to close it. */
export interface StorageUnderTest extends AsyncDisposable {
  readonly storage: CacheKeyStorage;
}

/** describeCacheKeyStorage runs what every CacheKeyStorage must do against one implementation. */
export function describeCacheKeyStorage(name: string, open: () => Promise<StorageUnderTest>): void {
  describe(`cache key storage: ${name}`, () => {
    let subject: StorageUnderTest;
    let storage: CacheKeyStorage;
    beforeEach(async () => {
      subject = await open();
      storage = subject.storage;
    });
    afterEach(async () => {
      await subject[Symbol.asyncDispose]();
    });
    const key = (n: string): string => digestOf(`key ${n}`);

    it('finds nothing under a key never recorded, and no oldest use in an empty storage', async () => {
      expect(storage.lookup(key('none'))).toBeUndefined();
      await storage.markUsed(key('none'));
      expect(storage.lookup(key('none'))).toBeUndefined();
      expect(storage.preimage(key('none'))).toBeUndefined();
      expect(storage.oldestUse()).toBeUndefined();
    });

    it('dates the last use of a result, and knows the oldest use of all', async () => {
      // Only Date is faked: the storage's own writes keep their timers.
      vi.useFakeTimers({ toFake: ['Date'] });
      try {
        vi.setSystemTime(10_000);
        await storage.record(key('old'), { resultId: 'snap-old', description: 'RUN old' });
        vi.setSystemTime(20_000);
        await storage.record(key('new'), { resultId: 'snap-new', description: 'RUN new' });
        expect(storage.lookup(key('old'))?.lastUsedAt).toBe(10_000);
        expect(storage.oldestUse()).toBe(10_000);
        vi.setSystemTime(30_000);
        await storage.markUsed(key('old'));
        expect(storage.lookup(key('old'))).toMatchObject({ resultId: 'snap-old', lastUsedAt: 30_000, createdAt: 10_000 });
        expect(storage.oldestUse()).toBe(20_000);
      } finally {
        vi.useRealTimers();
      }
    });

    it('records a result under a key and finds it, the empty filesystem (null) included', async () => {
      await storage.record(key('a'), { resultId: 'snap-a', description: 'RUN a', createdAt: 1000 });
      await storage.record(key('scratch'), { resultId: null, description: 'FROM scratch' });
      expect(storage.lookup(key('a'))).toMatchObject({ resultId: 'snap-a', description: 'RUN a', createdAt: 1000 });
      expect(storage.lookup(key('scratch'))).toMatchObject({ resultId: null, description: 'FROM scratch' });
      await storage.record(key('a'), { resultId: 'snap-b', description: 'RUN a again' });
      expect(storage.lookup(key('a'))?.resultId).toBe('snap-b');
    });

    it('records results under names that are not digests (unpacked layer chains)', async () => {
      await storage.record(`layer:${digestOf('chain')}`, { resultId: 'layer-snap', description: 'layer' });
      expect(storage.lookup(`layer:${digestOf('chain')}`)?.resultId).toBe('layer-snap');
    });

    it('links a key to the result of another, and links nothing when that one has none', async () => {
      await storage.record(key('usual'), { resultId: 'snap', description: 'COPY --from=build /out /out' });
      expect(await storage.link(key('content'), key('usual'))).toBe(true);
      expect(storage.lookup(key('content'))).toMatchObject({ resultId: 'snap', description: 'COPY --from=build /out /out' });
      expect(await storage.link(key('other'), key('missing'))).toBe(false);
      expect(storage.lookup(key('other'))).toBeUndefined();
    });

    it('keeps the first preimage of a key, as computed', async () => {
      const computed = computeVertexKey({ kind: 'merge', platform: hostPlatform() }, { inputs: [{ key: digestOf('a') }, { content: digestOf('files'), selector: ['/out'] }] });
      await storage.recordPreimage(computed.key, computed.preimage);
      await storage.recordPreimage(computed.key, { type: 'rerun', key: digestOf('x'), content: digestOf('y') });
      expect(storage.preimage(computed.key)).toEqual(computed.preimage);
    });
  });
}
