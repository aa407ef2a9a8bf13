import type { CacheKeyPreimage, CacheKeyStorage, CacheResult, NewCacheResult } from '../../solver/index.js';

/** MemoryCacheKeyStorage keeps results and preimages in maps, for solver tests; `links` counts link calls that copied. */
export class MemoryCacheKeyStorage implements CacheKeyStorage {
  readonly results = new Map<string, CacheResult>();
  readonly preimages = new Map<string, CacheKeyPreimage>();
  links = 0;

  lookup(key: string): CacheResult | undefined {
    return this.results.get(key);
  }

  markUsed(key: string): Promise<void> {
    const found = this.results.get(key);
    if (found !== undefined) this.results.set(key, { ...found, lastUsedAt: Date.now() });
    return Promise.resolve();
  }

  oldestUse(): number | undefined {
    const uses = [...this.results.values()].map((r) => r.lastUsedAt);
    return uses.length === 0 ? undefined : Math.min(...uses);
  }

  record(key: string, result: NewCacheResult): Promise<void> {
    const now = Date.now();
    this.results.set(key, { resultId: result.resultId, description: result.description, createdAt: result.createdAt ?? now, lastUsedAt: now });
    return Promise.resolve();
  }

  async link(key: string, existing: string): Promise<boolean> {
    const found = this.results.get(existing);
    if (found === undefined) return false;
    this.links++;
    await this.record(key, { resultId: found.resultId, description: found.description });
    return true;
  }

  recordPreimage(key: string, preimage: CacheKeyPreimage): Promise<void> {
    if (!this.preimages.has(key)) this.preimages.set(key, preimage);
    return Promise.resolve();
  }

  preimage(key: string): CacheKeyPreimage | undefined {
    return this.preimages.get(key);
  }
}
