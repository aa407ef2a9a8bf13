import type { Digest } from '../../base/digest.js';
import type { OpDeps } from './deps.js';

/** storedSnapshot is the snapshot the cache record under `key` keeps, when the record and its snapshot both exist. */
export function storedSnapshot(key: string, deps: Pick<OpDeps, 'cacheKeys' | 'snapshotter'>): string | undefined {
  const rec = deps.cacheKeys.lookup(key);
  return rec?.resultId != null && deps.snapshotter.exists(rec.resultId) ? rec.resultId : undefined;
}

/** layerRecordKey is the cache record of an unpacked layer chain, shared by image pulls and imported caches. */
export function layerRecordKey(chainId: Digest): string {
  return `layer:${chainId}`;
}
