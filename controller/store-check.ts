import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError, errnoCode } from '../base/errors.js';
import { checkStore, openMetadataStore, repairStore, type BlobVerification, type StoreCheck, type StoreFinding, type StoreLayout } from '../cache/index.js';

/** StoreCheckResult is a check of a store root and, with repair, what was removed and the check after it. */
export interface StoreCheckResult {
  readonly check: StoreCheck;
  /** What --repair removed, in order; empty without repair. */
  readonly removed: readonly StoreFinding[];
  /** The check after repairing (the same as check without repair). */
  readonly after: StoreCheck;
}

/** Repairs can expose more: a removed snapshot leaves the records above it pointing at nothing. */
const MAX_REPAIR_ROUNDS = 5;

/**
 * checkStoreRoot checks the store in a tbuild root folder without opening it as a build would (that clears what dead
 * processes left, which would hide it), and with `repair` removes what is safe to remove until nothing more is.
 */
export async function checkStoreRoot(root: string, options: { readonly verification: BlobVerification; readonly repair: boolean; readonly signal: AbortSignal }): Promise<StoreCheckResult> {
  await requireStore(root);
  await using meta = openMetadataStore(join(root, 'meta'));
  const layout: StoreLayout = { meta, snapshotsDir: join(root, 'snapshots'), contentRoot: join(root, 'content'), tmpDir: join(root, 'tmp'), cacheMountsDir: join(root, 'cache-mounts') };
  const check = await checkStore(layout, options);
  if (!options.repair) return { check, removed: [], after: check };
  const removed: StoreFinding[] = [];
  let after = check;
  for (let round = 0; round < MAX_REPAIR_ROUNDS && after.findings.length > 0; round++) {
    const report = await repairStore(layout, after.findings);
    removed.push(...report.removed);
    after = await checkStore(layout, options);
    if (report.removed.length === 0) break;
  }
  return { check, removed, after };
}

async function requireStore(root: string): Promise<void> {
  try {
    if ((await stat(join(root, 'meta'))).isDirectory()) return;
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
  throw new UsageError(`Cannot check the store in "${root}": it has no metadata database`, { hint: 'give the root folder of a store with --root' });
}
