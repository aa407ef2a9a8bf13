import { statfs } from 'node:fs/promises';
import { prune, snapshotBytes, snapshotBytesAtMost, usedSince, type PruneReport } from '../cache/index.js';
import { storeParts, type Store } from './store.js';

/** GcPolicy is how much build cache a store keeps after each build. */
export interface GcPolicy {
  /** Keep the most recently used cache while it fits in this many bytes. */
  readonly keepBytes: number;
  /** Remove cache not used for this many milliseconds, whatever its size. */
  readonly keepDurationMs: number;
}

const MIN_KEEP = 2 * 1024 ** 3;
/** Sixty days, BuildKit's default for cache nobody used. */
const DEFAULT_KEEP_DURATION_MS = 60 * 24 * 3600 * 1000;

/** defaultGcPolicy keeps a tenth of the store's filesystem (at least 2 GiB) and nothing unused for 60 days. */
export async function defaultGcPolicy(root: string): Promise<GcPolicy> {
  const fs = await statfs(root);
  return { keepBytes: Math.max(MIN_KEEP, Math.floor((fs.blocks * fs.bsize) / 10)), keepDurationMs: DEFAULT_KEEP_DURATION_MS };
}

/** cacheSize sums the sizes of the store's snapshots, from their records. */
export function cacheSize(store: Store): number {
  return snapshotBytes(store.meta);
}

/**
 * collectGarbage prunes cache records and cache mounts once the store outgrows its policy: first what nobody used
 * within the keep duration, then the least recently used beyond the size limit. Cache mounts count with the size
 * measured when their last RUN ended. Builds running meanwhile, here or in other processes, keep what they lease. It
 * reads every record only when the store's usage bounds cannot tell that nothing is due (cache/usage-bounds.ts).
 */
export async function collectGarbage(store: Store, policy: GcPolicy): Promise<PruneReport | undefined> {
  const mounts = await store.cacheMounts.infos();
  const since = Date.now() - policy.keepDurationMs;
  const expired = mounts.some((m) => m.lastUsedAt < since) || !(await usedSince(store.meta, since, () => store.cacheKeys.oldestUse()));
  const mountBytes = mounts.reduce((sum, m) => sum + (m.recordedSize ?? 0), 0);
  const oversized = snapshotBytesAtMost(store.meta) + mountBytes > policy.keepBytes && cacheSize(store) + mountBytes > policy.keepBytes;
  if (!expired && !oversized) return undefined;
  // The builds that ended here use nothing any more: their lingering lease must not keep it from collection.
  await store.lease.releaseIdle();
  const parts = storeParts(store);
  const reports: PruneReport[] = [];
  if (expired) reports.push(await prune(parts, { all: false, keepDurationMs: policy.keepDurationMs }));
  if (oversized) reports.push(await prune(parts, { all: false, keepBytes: policy.keepBytes }));
  return reports.reduce((a, b) => ({ records: a.records + b.records, snapshots: a.snapshots + b.snapshots, blobs: a.blobs + b.blobs, bytes: a.bytes + b.bytes }));
}
