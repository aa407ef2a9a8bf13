import { statfs } from 'node:fs/promises';
import { prune, type PruneReport } from '../cache/gc.js';
import { runningJobs } from '../cache/jobs.js';
import { join } from 'node:path';
import type { Store } from './store.js';

/** GcPolicy is how much build cache a store keeps after each build. */
export interface GcPolicy {
  /** Keep the most recently used cache while it fits in this many bytes. */
  readonly keepBytes: number;
}

const MIN_KEEP = 2 * 1024 ** 3;

/** defaultGcPolicy keeps a tenth of the store's filesystem, and at least 2 GiB. */
export async function defaultGcPolicy(root: string): Promise<GcPolicy> {
  const fs = await statfs(root);
  return { keepBytes: Math.max(MIN_KEEP, Math.floor((fs.blocks * fs.bsize) / 10)) };
}

/** cacheSize sums the sizes of the store's snapshots, from their records. */
export function cacheSize(store: Store): number {
  let total = 0;
  for (const { value } of store.meta.snapshots.getRange()) total += value.size;
  return total;
}

/**
 * collectGarbage prunes the least recently used cache once the store outgrows its policy.
 * It leaves the store alone while other builds use it; the next build will collect instead.
 */
export async function collectGarbage(store: Store, policy: GcPolicy): Promise<PruneReport | undefined> {
  if (cacheSize(store) <= policy.keepBytes) return undefined;
  if ((await runningJobs(store.meta)) > 0) return undefined;
  return prune(
    { meta: store.meta, snapshotter: store.snapshotter, content: store.content, contentRoot: join(store.root, 'content') },
    { all: false, keepBytes: policy.keepBytes },
  );
}
