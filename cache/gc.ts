import { text } from 'node:stream/consumers';
import { parseDigest, type Digest } from '../base/digest.js';
import { errnoCode } from '../base/errors.js';
import { testPause } from '../base/test-pause.js';
import type { CacheMountStore } from './cache-mounts.js';
import type { ContentProvider, ContentStore } from './content-store.js';
import { imageParts, sweep } from './gc-sweep.js';
import { historyKeys } from './key-preimages.js';
import { readStoredManifest } from './stored-manifest.js';
import { reclaimLeases } from './leases.js';
import type { CacheRecordValue, MetadataStore } from './metadata.js';
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

/**
 * prune removes selected cache records, then every snapshot and blob nothing keeps. It runs while builds of any
 * process run: the leases of dead processes are reclaimed first, and the sweep keeps what live leases name.
 */
export async function prune(store: StoreParts, options: PruneOptions): Promise<PruneReport> {
  const now = Date.now();
  await reclaimLeases(store.meta, now);
  const usage = (await diskUsageRecords(store)).sort((a, b) => b.lastUsedAt - a.lastUsedAt);
  const drop = selectRecords(usage, options, now);
  let mounts = 0;
  let mountBytes = 0;
  const dropRecords = new Set<string>();
  for (const rec of usage) {
    if (!drop.has(rec.key)) continue;
    if (rec.type === 'regular') dropRecords.add(rec.key);
    else if (await store.cacheMounts?.remove(rec.key.slice(CACHE_MOUNT_KEY_PREFIX.length))) {
      mounts++;
      mountBytes += rec.size;
    }
  }
  await removeStalePreimages(store.meta, now);
  // Read before the sweep's transaction, which must not wait on files: blobs written since are not candidates.
  const blobs = new Map<string, number>();
  for await (const blob of store.content.walk()) blobs.set(blob.digest, blob.size);
  await testPause('prune-sweep');
  const swept = sweep(store.meta, store.content, { dropRecords, blobs, manifestLayers: await readManifestLayers(store), now });
  // The records are gone, so no build can lease these any more: their files can go at leisure.
  for (const { id } of swept.snapshots) await store.snapshotter.remove(id);
  const snapshotBytes = swept.snapshots.reduce((sum, s) => sum + s.size, 0);
  return { records: swept.records + mounts, snapshots: swept.snapshots.length, blobs: swept.blobs, bytes: snapshotBytes + mountBytes + swept.blobBytes };
}

function selectRecords(usage: readonly UsageRecord[], options: PruneOptions, now: number): Set<string> {
  const drop = new Set<string>();
  let kept = 0;
  for (const rec of usage) {
    const recent = options.keepDurationMs !== undefined && now - rec.lastUsedAt < options.keepDurationMs;
    const fits = options.keepBytes !== undefined && kept + rec.size <= options.keepBytes;
    // A cache mount a build holds locked stays even with --all; its lock is checked again as it goes.
    const held = rec.type === 'exec.cachemount' && rec.inUse;
    if (!held && (options.all || (!recent && !fits) || (options.keepDurationMs === undefined && options.keepBytes === undefined))) drop.add(rec.key);
    else kept += rec.size;
  }
  return drop;
}

/** A key's preimage is recorded before its result: one without a record is kept this long, then dropped. */
const PREIMAGE_GRACE_MS = 24 * 60 * 60 * 1000;

/**
 * removeStalePreimages drops the preimages of keys that never got a record (a failed step, a key that missed), except
 * those a kept build record names: its explanations read them.
 */
async function removeStalePreimages(meta: MetadataStore, now: number): Promise<void> {
  let named: Set<string> | undefined;
  for (const { key, value } of meta.keyPreimages.getRange()) {
    if (now - value.recordedAt <= PREIMAGE_GRACE_MS || meta.cacheRecords.doesExist(key)) continue;
    named ??= historyKeys(meta);
    if (!named.has(key)) await meta.keyPreimages.remove(key);
  }
}

/** readManifestLayers reads the layers every stored image's manifests list. */
async function readManifestLayers(store: StoreParts): Promise<Map<string, readonly string[]>> {
  const out = new Map<string, readonly string[]>();
  for (const { value } of store.meta.images.getRange()) {
    for (const part of imageParts(value)) {
      if (!out.has(part.manifestDigest)) out.set(part.manifestDigest, (await readStoredManifest(store.content, part.manifestDigest))?.layers.map((l) => l.digest) ?? []);
    }
  }
  return out;
}
