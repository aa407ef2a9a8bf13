import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSnapshotter, createStoreLease, openMetadataStore, snapshotBytes, snapshotBytesAtMost, usedSince, type MetadataStore } from '../../../cache/index.js';
import { makeTempDir } from '../../helpers/cli.js';

async function commitLayer(meta: MetadataStore, root: string, size: number): Promise<string> {
  const lease = createStoreLease(meta);
  const held = await lease.hold();
  try {
    await using active = await createSnapshotter(root, meta, lease).prepare(null);
    await writeFile(join(active.dir, 'data'), Buffer.alloc(size));
    return await active.commit(`${size} bytes`, { size });
  } finally {
    await held[Symbol.asyncDispose]();
  }
}

describe('usage bounds', () => {
  it('keep an upper bound of the snapshots bytes that commits raise and an exact reading resets', async () => {
    await using tmp = await makeTempDir();
    await using meta = openMetadataStore(join(tmp.path, 'meta'));
    const root = join(tmp.path, 'snapshots');
    await commitLayer(meta, root, 100);
    // No bound yet: the first question reads every snapshot and keeps the sum.
    expect(meta.usageBounds.getKeys().asArray).toEqual([]);
    expect(snapshotBytesAtMost(meta)).toBe(100);
    const second = await commitLayer(meta, root, 250);
    expect(snapshotBytesAtMost(meta)).toBe(350);
    // A removal leaves the bound above the truth until something reads every snapshot again.
    await meta.snapshots.remove(second);
    expect(snapshotBytesAtMost(meta)).toBe(350);
    expect(snapshotBytes(meta)).toBe(100);
    expect(snapshotBytesAtMost(meta)).toBe(100);
  });

  it('read the records last use only when the kept lower bound is older than asked', async () => {
    await using tmp = await makeTempDir();
    await using meta = openMetadataStore(join(tmp.path, 'meta'));
    let reads = 0;
    const oldest = (at: number | undefined) => (): number | undefined => {
      reads++;
      return at;
    };
    expect(await usedSince(meta, 1_000, oldest(5_000))).toBe(true);
    expect(reads).toBe(1);
    // The kept bound (5000) answers any question about an earlier time without a reading.
    expect(await usedSince(meta, 4_000, oldest(5_000))).toBe(true);
    expect(reads).toBe(1);
    expect(await usedSince(meta, 6_000, oldest(5_000))).toBe(false);
    expect(reads).toBe(2);
    // Once the old records are gone, a reading raises the bound again.
    expect(await usedSince(meta, 6_000, oldest(7_000))).toBe(true);
    expect(await usedSince(meta, 6_500, oldest(7_000))).toBe(true);
    expect(reads).toBe(3);
  });
});
