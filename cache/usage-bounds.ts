import type { MetadataStore } from './metadata.js';

/**
 * Usage bounds let collection after each build decide whether it has anything to do without reading every record of
 * the store, which grows with it. Two are kept in the usage-bounds table:
 * - an upper bound of the bytes of all snapshots: each commit raises it in the transaction that records the snapshot,
 *   removals leave it (still an upper bound), and whoever reads every snapshot sets it to the exact sum;
 * - a lower bound of the cache records' last use: records are written and used only at the present time, so the
 *   oldest last use found once stays a lower bound until it is looked for again.
 * A store without them (new, or made by an earlier tbuild) has them computed the first time they are asked for.
 */
const SNAPSHOT_BYTES = 'snapshot-bytes-at-most';
const OLDEST_USE = 'oldest-use-at-least';

type Meta = Pick<MetadataStore, 'snapshots' | 'usageBounds' | 'transactSync'>;

/** raiseSnapshotBytes adds a snapshot's size to the upper bound; call it in the transaction that records the snapshot. */
export function raiseSnapshotBytes(meta: Meta, size: number): void {
  const bound = meta.usageBounds.get(SNAPSHOT_BYTES);
  if (bound !== undefined) meta.usageBounds.putSync(SNAPSHOT_BYTES, bound + size);
}

/** setSnapshotBytes records the exact sum of every snapshot's size; call it in the transaction that read them all. */
export function setSnapshotBytes(meta: Meta, total: number): void {
  meta.usageBounds.putSync(SNAPSHOT_BYTES, total);
}

/** snapshotBytes sums the sizes of every snapshot from their records, and keeps the sum as the bound. */
export function snapshotBytes(meta: Meta): number {
  return meta.transactSync(() => {
    let total = 0;
    for (const { value } of meta.snapshots.getRange()) total += value.size;
    setSnapshotBytes(meta, total);
    return total;
  });
}

/** snapshotBytesAtMost is at least the bytes of every snapshot: the bound when there is one, else the exact sum. */
export function snapshotBytesAtMost(meta: Meta): number {
  return meta.usageBounds.get(SNAPSHOT_BYTES) ?? snapshotBytes(meta);
}

/**
 * usedSince tells whether every cache record was used at `since` or later, reading them all (with `oldestUse`) only
 * when the bound kept from an earlier reading is older than `since`.
 */
export async function usedSince(meta: Meta, since: number, oldestUse: () => number | undefined): Promise<boolean> {
  const bound = meta.usageBounds.get(OLDEST_USE);
  if (bound !== undefined && bound >= since) return true;
  const oldest = oldestUse() ?? Date.now();
  await meta.usageBounds.put(OLDEST_USE, oldest);
  return oldest >= since;
}
