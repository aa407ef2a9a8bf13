import { diskUsageRecords, prune, type PruneOptions, type PruneReport, type UsageRecord } from '../cache/index.js';
import { storeParts, type Store } from './store.js';

/** diskUsage lists the store's cache records, cache mounts among them, largest first, as `tbuild du` shows them. */
export async function diskUsage(store: Store): Promise<UsageRecord[]> {
  return (await diskUsageRecords(storeParts(store))).sort((a, b) => b.size - a.size);
}

/** pruneCache removes cache records as `tbuild prune` asks; what running builds of any process lease stays. */
export async function pruneCache(store: Store, options: PruneOptions): Promise<PruneReport> {
  // What the last builds of this process used is not in use any more: their lingering lease keeps nothing from here.
  await store.lease.releaseIdle();
  return prune(storeParts(store), options);
}
