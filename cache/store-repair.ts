import { rm } from 'node:fs/promises';
import { dropLease, liveLeases } from './leases.js';
import type { StoreFinding, StoreLayout } from './store-finding.js';

/** StoreRepairReport says which findings a repair removed and which it left, and why. */
export interface StoreRepairReport {
  readonly removed: readonly StoreFinding[];
  readonly kept: readonly { readonly finding: StoreFinding; readonly reason: string }[];
}

/**
 * repairStore removes what findings name when that is safe: files of processes that died always, and orphans, corrupt
 * blobs and records pointing at nothing only while no process holds a live lease on the store (its builds could be
 * using them). Leases are judged again before each such removal, so a build started since the check is respected.
 */
export async function repairStore(layout: Pick<StoreLayout, 'meta'>, findings: readonly StoreFinding[]): Promise<StoreRepairReport> {
  const removed: StoreFinding[] = [];
  const kept: { finding: StoreFinding; reason: string }[] = [];
  for (const finding of findings) {
    const { repair } = finding;
    if (repair === undefined) {
      kept.push({ finding, reason: 'not safe to remove' });
      continue;
    }
    const holders = repair.whenIdle ? [...new Set((await liveLeases(layout.meta)).map((l) => l.pid))] : [];
    if (holders.length > 0) {
      kept.push({ finding, reason: `the store is in use (a live lease of process ${holders.join(', ')})` });
      continue;
    }
    if (repair.lease !== undefined && !dropLease(layout.meta, repair.lease.id, repair.lease.judgedExpiry)) {
      kept.push({ finding, reason: 'its process refreshed it since the check' });
      continue;
    }
    for (const path of repair.paths) await rm(path, { recursive: true, force: true });
    for (const { table, key } of repair.keys) {
      await layout.meta[table].remove(key);
      if (table === 'cacheRecords') await layout.meta.keyPreimages.remove(key);
    }
    removed.push(finding);
  }
  return { removed, kept };
}
