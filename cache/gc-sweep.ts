import type { ImageManifest } from '../base/oci.js';
import { parseDigest } from '../base/digest.js';
import type { ContentStore } from './content-store.js';
import { historyKeys } from './key-preimages.js';
import { leasedResources } from './leases.js';
import { setSnapshotBytes } from './usage-bounds.js';
import type { ImageRecord, MetadataStore, PlatformImageRecord } from './metadata.js';

/** SweepInput is what collection decided before its transaction: the records to drop and what the content store held. */
export interface SweepInput {
  /** Cache records to remove, unless a lease keeps them. */
  readonly dropRecords: ReadonlySet<string>;
  /** Every blob of the content store when collection started, with its size: a blob written since is never a candidate. */
  readonly blobs: ReadonlyMap<string, number>;
  /** The layers each image manifest lists, read before the transaction; an image whose manifest is not here keeps every blob. */
  readonly manifestLayers: ReadonlyMap<string, readonly string[]>;
  readonly now: number;
}

/** SweepResult is what one sweep removed; the snapshots' records are gone, their folders are the caller's to remove. */
export interface SweepResult {
  readonly records: number;
  readonly snapshots: readonly { readonly id: string; readonly size: number }[];
  readonly blobs: number;
  readonly blobBytes: number;
}

/**
 * sweep removes, in one transaction of the metadata database, the selected cache records no lease keeps, then every
 * snapshot no cache record, image or lease reaches (with its parents), then every blob of `input.blobs` no image,
 * kept snapshot's layer record or lease names. Builds add what they use to their lease in transactions too, so each
 * either leased a thing before this sweep (which keeps it) or looks for it after (and finds it gone).
 */
export function sweep(meta: MetadataStore, content: Pick<ContentStore, 'deleteBlobSync'>, input: SweepInput): SweepResult {
  return meta.transactSync(() => {
    const leased = leasedResources(meta, input.now);
    let records = 0;
    // A preimage goes with its record unless a kept build record names its key: explanations read it.
    let named: Set<string> | undefined;
    for (const key of input.dropRecords) {
      if (leased.cacheRecords.has(key) || meta.cacheRecords.get(key) === undefined) continue;
      meta.cacheRecords.removeSync(key);
      named ??= historyKeys(meta);
      if (!named.has(key)) meta.keyPreimages.removeSync(key);
      records++;
    }
    const live = markSnapshots(meta, leased.snapshots);
    const snapshots: { id: string; size: number }[] = [];
    let keptBytes = 0;
    for (const { key, value } of meta.snapshots.getRange()) {
      if (live.has(key)) {
        keptBytes += value.size;
        continue;
      }
      meta.snapshots.removeSync(key);
      snapshots.push({ id: key, size: value.size });
    }
    setSnapshotBytes(meta, keptBytes);
    for (const key of meta.layerBlobs.getKeys()) if (!live.has(key.split('\0')[0] ?? '')) meta.layerBlobs.removeSync(key);
    // A COPY's hint at the layer its last run made goes with that layer: otherwise hints of removed layers pile up.
    for (const { key, value } of meta.copyHints.getRange()) if (!live.has(value.snapshotId)) meta.copyHints.removeSync(key);
    const blobs = liveBlobs(meta, input.manifestLayers, leased.blobs);
    let count = 0;
    let blobBytes = 0;
    if (blobs !== undefined) {
      // Where a registry holds a blob matters only for blobs something here still refers to.
      for (const key of meta.blobLocations.getKeys()) if (!blobs.has(key.slice(key.lastIndexOf(' ') + 1))) meta.blobLocations.removeSync(key);
      for (const [digest, size] of input.blobs) {
        if (blobs.has(digest)) continue;
        content.deleteBlobSync(parseDigest(digest));
        count++;
        blobBytes += size;
      }
    }
    return { records, snapshots, blobs: count, blobBytes };
  });
}

/** markSnapshots lists the snapshots cache records, images and leases reach, with every parent below them. */
function markSnapshots(meta: MetadataStore, leased: ReadonlySet<string>): Set<string> {
  const live = new Set<string>();
  const mark = (id: string | null): void => {
    for (let cur = id; cur !== null && !live.has(cur); cur = meta.snapshots.get(cur)?.parent ?? null) live.add(cur);
  };
  for (const { value } of meta.cacheRecords.getRange()) mark(value.snapshotId);
  for (const { value } of meta.images.getRange()) for (const part of imageParts(value)) mark(part.snapshotId);
  for (const id of leased) mark(id);
  return live;
}

/** liveBlobs lists the blobs images, layer records and leases name; undefined when an image's manifest was not read. */
function liveBlobs(meta: MetadataStore, manifestLayers: ReadonlyMap<string, readonly string[]>, leased: ReadonlySet<string>): Set<string> | undefined {
  const live = new Set<string>(leased);
  for (const { value } of meta.images.getRange()) {
    live.add(value.manifestDigest);
    for (const b of value.attestationBlobs ?? []) live.add(b);
    for (const part of imageParts(value)) {
      live.add(part.manifestDigest);
      live.add(part.configDigest);
      for (const b of part.blobs ?? []) live.add(b);
      const layers = manifestLayers.get(part.manifestDigest);
      // An image stored since the manifests were read: its layers are unknown here, so no blob goes this time.
      if (layers === undefined) return undefined;
      for (const l of layers) live.add(l);
    }
  }
  for (const { value } of meta.layerBlobs.getRange()) {
    if (typeof value === 'object' && value !== null && 'descriptor' in value) {
      const d = value.descriptor;
      if (typeof d === 'object' && d !== null && 'digest' in d && typeof d.digest === 'string') live.add(d.digest);
    }
  }
  return live;
}

/** imageParts lists the images a stored image keeps alive: itself, or each platform's image of its index. */
export function imageParts(rec: ImageRecord): readonly PlatformImageRecord[] {
  return rec.platforms ?? [rec];
}
