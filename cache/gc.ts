import { readdir, readFile } from 'node:fs/promises';
import { isDigest, parseDigest, type Digest } from '../base/digest.js';
import { errnoCode } from '../base/errors.js';
import type { ImageManifest } from '../base/oci.js';
import type { CacheMountStore } from './cache-mounts.js';
import type { ContentStore } from './content-store.js';
import type { CacheRecordValue, ImageRecord, MetadataStore, PlatformImageRecord } from './metadata.js';
import type { Snapshotter } from './snapshotter.js';

/**
 * PruneOptions choose which cache records go. Cache mounts are cache records like any other, as in BuildKit
 * (type exec.cachemount): a prune without filters removes them too, and --all is only needed for nothing else.
 */
export interface PruneOptions {
  /** Remove every cache record, not only those the filters select. */
  readonly all: boolean;
  /** Keep records used within this many milliseconds. */
  readonly keepDurationMs?: number;
  /** Keep the most recently used records while their snapshots fit in this many bytes. */
  readonly keepBytes?: number;
}

/** PruneReport says what a prune removed. */
export interface PruneReport {
  readonly records: number;
  readonly snapshots: number;
  readonly blobs: number;
  readonly bytes: number;
}

/** UsageRecordType tells a layer's cache record from a RUN --mount=type=cache directory (BuildKit's record types). */
export type UsageRecordType = 'regular' | 'exec.cachemount';

/** UsageRecord is one cache record as `tbuild du` shows it. */
export interface UsageRecord {
  readonly type: UsageRecordType;
  readonly key: string;
  readonly snapshotId: string | null;
  readonly size: number;
  readonly shared: boolean;
  readonly lastUsedAt: number;
  readonly createdAt: number;
  readonly description: string;
  readonly inUse: boolean;
}

/** StoreParts is what collection walks over. */
export interface StoreParts {
  readonly meta: MetadataStore;
  readonly snapshotter: Snapshotter;
  readonly content: ContentStore;
  readonly contentRoot: string;
  /** Cache mount directories; left out, they are neither listed nor pruned. */
  readonly cacheMounts?: CacheMountStore;
}

const CACHE_MOUNT_KEY_PREFIX = 'cache-mount:';

/** diskUsageRecords lists cache records (with the size of their own snapshot and whether others share it) and cache mounts. */
export async function diskUsageRecords(store: StoreParts): Promise<UsageRecord[]> {
  return [...snapshotUsageRecords(store), ...(await cacheMountUsageRecords(store.cacheMounts))];
}

async function cacheMountUsageRecords(mounts: CacheMountStore | undefined): Promise<UsageRecord[]> {
  if (mounts === undefined) return [];
  return (await mounts.list()).map((m) => ({
    type: 'exec.cachemount',
    key: `${CACHE_MOUNT_KEY_PREFIX}${m.key}`,
    snapshotId: null,
    size: m.size,
    shared: false,
    lastUsedAt: m.lastUsedAt,
    createdAt: m.createdAt,
    description: m.target === null ? `cache mount (id=${m.id})` : `cache mount ${m.target} (id=${m.id})`,
    inUse: m.inUse,
  }));
}

function snapshotUsageRecords(store: StoreParts): UsageRecord[] {
  const users = new Map<string, number>();
  const records: [string, CacheRecordValue][] = [];
  for (const { key, value } of store.meta.cacheRecords.getRange()) {
    records.push([key, value]);
    for (const id of store.snapshotter.chain(value.snapshotId)) users.set(id, (users.get(id) ?? 0) + 1);
  }
  const imageSnapshots = new Set<string>();
  for (const { value } of store.meta.images.getRange()) for (const part of imageParts(value)) for (const id of store.snapshotter.chain(part.snapshotId)) imageSnapshots.add(id);
  return records.map(([key, rec]) => {
    const snap = rec.snapshotId === null ? undefined : store.meta.snapshots.get(rec.snapshotId);
    return {
      type: 'regular',
      key,
      snapshotId: rec.snapshotId,
      size: snap?.size ?? 0,
      shared: rec.snapshotId !== null && (users.get(rec.snapshotId) ?? 0) > 1,
      lastUsedAt: rec.lastUsedAt,
      createdAt: rec.createdAt,
      description: rec.description,
      inUse: rec.snapshotId !== null && imageSnapshots.has(rec.snapshotId),
    };
  });
}

/** prune removes selected cache records, then every snapshot and blob nothing kept refers to. */
export async function prune(store: StoreParts, options: PruneOptions): Promise<PruneReport> {
  const now = Date.now();
  const usage = (await diskUsageRecords(store)).sort((a, b) => b.lastUsedAt - a.lastUsedAt);
  const drop = new Set<string>();
  let kept = 0;
  let mountBytes = 0;
  for (const rec of usage) {
    const recent = options.keepDurationMs !== undefined && now - rec.lastUsedAt < options.keepDurationMs;
    const fits = options.keepBytes !== undefined && kept + rec.size <= options.keepBytes;
    // A cache mount a build holds locked stays even with --all; its lock is checked again as it goes.
    const held = rec.type === 'exec.cachemount' && rec.inUse;
    if (!held && (options.all || (!recent && !fits) || (options.keepDurationMs === undefined && options.keepBytes === undefined))) drop.add(rec.key);
    else kept += rec.size;
  }
  for (const rec of usage) {
    if (!drop.has(rec.key)) continue;
    if (rec.type === 'regular') {
      await store.meta.cacheRecords.remove(rec.key);
      await store.meta.keyPreimages.remove(rec.key);
    }
    else if (await store.cacheMounts?.remove(rec.key.slice(CACHE_MOUNT_KEY_PREFIX.length))) mountBytes += rec.size;
    else drop.delete(rec.key);
  }

  await removeStalePreimages(store.meta, now);
  const liveSnapshots = new Set<string>();
  const mark = (id: string | null): void => {
    for (const s of store.snapshotter.chain(id)) liveSnapshots.add(s);
  };
  for (const { value } of store.meta.cacheRecords.getRange()) mark(value.snapshotId);
  for (const { value } of store.meta.images.getRange()) for (const part of imageParts(value)) mark(part.snapshotId);
  let snapshots = 0;
  let bytes = 0;
  for (const { key, value } of store.meta.snapshots.getRange()) {
    if (liveSnapshots.has(key)) continue;
    bytes += value.size;
    await store.snapshotter.remove(key);
    snapshots++;
  }
  for (const key of store.meta.layerBlobs.getKeys()) {
    if (!liveSnapshots.has(key.split('\0')[0] ?? '')) await store.meta.layerBlobs.remove(key);
  }
  // A COPY's hint at the layer its last run made goes with that layer: otherwise hints of removed layers pile up.
  for (const { key, value } of store.meta.copyHints.getRange()) {
    if (!liveSnapshots.has(value.snapshotId)) await store.meta.copyHints.remove(key);
  }
  const blobs = await collectBlobs(store);
  return { records: drop.size, snapshots, blobs: blobs.count, bytes: bytes + mountBytes + blobs.bytes };
}

/** A key's preimage is recorded before its result: one without a record is kept this long, then dropped. */
const PREIMAGE_GRACE_MS = 24 * 60 * 60 * 1000;

/** removeStalePreimages drops the preimages of keys that never got a record (a failed step, a key that missed). */
async function removeStalePreimages(meta: MetadataStore, now: number): Promise<void> {
  for (const { key, value } of meta.keyPreimages.getRange()) {
    if (now - value.recordedAt > PREIMAGE_GRACE_MS && meta.cacheRecords.get(key) === undefined) await meta.keyPreimages.remove(key);
  }
}

async function collectBlobs(store: StoreParts): Promise<{ count: number; bytes: number }> {
  const live = new Set<string>();
  for (const { value } of store.meta.images.getRange()) {
    live.add(value.manifestDigest);
    for (const part of imageParts(value)) {
      live.add(part.manifestDigest);
      live.add(part.configDigest);
      for (const b of part.blobs ?? []) live.add(b);
      const manifest = await readManifest(store, parseDigest(part.manifestDigest));
      for (const l of manifest?.layers ?? []) live.add(l.digest);
    }
  }
  for (const { value } of store.meta.layerBlobs.getRange()) {
    if (typeof value === 'object' && value !== null && 'descriptor' in value) {
      const d = value.descriptor;
      if (typeof d === 'object' && d !== null && 'digest' in d && typeof d.digest === 'string') live.add(d.digest);
    }
  }
  // Where a registry holds a blob matters only for blobs something here still refers to.
  for (const key of store.meta.blobLocations.getKeys()) {
    if (!live.has(key.slice(key.lastIndexOf(' ') + 1))) await store.meta.blobLocations.remove(key);
  }
  let names: string[];
  try {
    names = await readdir(`${store.contentRoot}/blobs/sha256`);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return { count: 0, bytes: 0 };
    throw err;
  }
  let count = 0;
  let bytes = 0;
  for (const hex of names) {
    const digest = `sha256:${hex}`;
    if (!isDigest(digest) || live.has(digest)) continue;
    bytes += (await store.content.info(digest))?.size ?? 0;
    await store.content.deleteBlob(digest);
    count++;
  }
  return { count, bytes };
}

async function readManifest(store: StoreParts, digest: Digest): Promise<ImageManifest | undefined> {
  try {
    return JSON.parse(await readFile(store.content.blobPath(digest), 'utf8')) as ImageManifest;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/** imageParts lists the images a stored image keeps alive: itself, or each platform's image of its index. */
export function imageParts(rec: ImageRecord): readonly PlatformImageRecord[] {
  return rec.platforms ?? [rec];
}
