import { UsageError } from '../base/errors.js';
import { diskUsageRecords, prune, runningJobs, type PruneOptions, type PruneReport, type UsageRecord } from '../cache/index.js';
import { storeParts, type Store } from './store.js';

/** diskUsage lists the store's cache records, cache mounts among them, largest first, as `tbuild du` shows them. */
export async function diskUsage(store: Store): Promise<UsageRecord[]> {
  return (await diskUsageRecords(storeParts(store))).sort((a, b) => b.size - a.size);
}

/** pruneCache removes cache records as `tbuild prune` asks; it refuses while builds of any process use the store. */
export async function pruneCache(store: Store, options: PruneOptions): Promise<PruneReport> {
  const running = await runningJobs(store.meta);
  if (running > 0) throw new UsageError(`Cannot prune while ${running} build(s) use this store`, { hint: 'wait for them to finish' });
  return prune(storeParts(store), options);
}
