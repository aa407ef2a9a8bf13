import { readStoredManifest } from './stored-manifest.js';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { Digester, parseDigest } from '../base/digest.js';
import { errnoCode } from '../base/errors.js';
import { readdirOrEmpty } from '../base/fs.js';
import type { ImageManifest } from '../base/oci.js';
import { createLocalContentStore, type ContentProvider, type ContentStore } from './content-store.js';
import { imageParts } from './gc-sweep.js';
import { isProcessAlive } from './process-alive.js';
import { leaseState, parseResourceKey } from './leases.js';
import type { CacheRecordValue, CopyHint, ImageRecord, MetadataStore } from './metadata.js';
import { checkSnapshots, type SnapshotGraph } from './store-check-snapshots.js';
import type { BlobVerification, StoreCheck, StoreFinding, StoreLayout, StoreRepair } from './store-finding.js';

/** Every blob up to this size is hashed in a sample check (manifests, configs, small layers). */
const SAMPLE_SMALL_BYTES = 1 << 20;
/** How many larger blobs a sample check hashes, picked at random. */
const SAMPLE_LARGE_COUNT = 8;

/** checkStore reads a store and lists its inconsistencies; it changes nothing. */
export async function checkStore(layout: StoreLayout, options: { readonly verification: BlobVerification; readonly signal: AbortSignal }): Promise<StoreCheck> {
  const { meta } = layout;
  const findings: StoreFinding[] = [];
  const { stale, holders } = await checkLeases(meta, findings);
  const inUse = holders.length > 0;
  // What refers to snapshots and blobs is read before them: a build writes a record only after what it names, so
  // nothing a record read here names can still be on its way. (Collection running meanwhile can still remove it.)
  const refs = readReferences(meta);
  const graph = await checkSnapshots(layout, findings);
  checkRecords(refs, graph, findings);
  // Read after the snapshots: a build records a layer and leases it in one transaction, so every layer of the graph a
  // running build made is named here (a lease taken since the leases were judged counts as live).
  checkUnreferenced(refs, leasedSnapshots(meta, stale), graph, layout.snapshotsDir, findings);
  const content = createLocalContentStore(layout.contentRoot);
  const blobs = new Map<string, number>();
  for await (const blob of content.walk()) blobs.set(blob.digest, blob.size);
  await checkImages(content, refs, graph, blobs, findings);
  const hashed = await verifyBlobs(content, blobs, options, findings);
  for (const path of await content.strays()) findings.push({ kind: 'blob-digest-mismatch', where: path, detail: 'the file name is not a sha256 digest', repair: { paths: [path], keys: [], whenIdle: true } });
  await checkIngest(layout.contentRoot, findings);
  await checkTemp(layout.tmpDir, inUse, findings);
  await checkCacheMountTemp(layout.cacheMountsDir, inUse, findings);
  return { findings, verification: options.verification, blobsHashed: hashed, blobsTotal: blobs.size, leaseHolders: holders };
}

/** References is what the metadata tables that name snapshots and blobs held at one moment. */
interface References {
  readonly cacheRecords: readonly { readonly key: string; readonly value: CacheRecordValue }[];
  readonly images: readonly { readonly key: string; readonly value: ImageRecord }[];
  readonly layerBlobKeys: readonly string[];
  readonly copyHints: readonly { readonly key: string; readonly value: CopyHint }[];
}

function readReferences(meta: MetadataStore): References {
  return {
    cacheRecords: [...meta.cacheRecords.getRange()],
    images: [...meta.images.getRange()],
    layerBlobKeys: [...meta.layerBlobs.getKeys()],
    copyHints: [...meta.copyHints.getRange()],
  };
}

function checkRecords(refs: References, graph: SnapshotGraph, findings: StoreFinding[]): void {
  for (const { key, value } of refs.cacheRecords) {
    if (value.snapshotId === null || graph.intact(value.snapshotId)) continue;
    const where = `cache-records/${key}`;
    findings.push({ kind: 'record-snapshot-missing', where, detail: `${graph.explain(value.snapshotId)} (${value.description})`, repair: { paths: [], keys: [{ table: 'cacheRecords', key }], whenIdle: true } });
  }
  for (const key of refs.layerBlobKeys) {
    const snapshotId = key.split('\0')[0] ?? '';
    if (graph.recorded(snapshotId)) continue;
    findings.push({ kind: 'layer-blob-record-dangling', where: `layer-blobs/${key.replace('\0', ' ')}`, detail: `snapshot ${snapshotId} has no record`, repair: { paths: [], keys: [{ table: 'layerBlobs', key }], whenIdle: true } });
  }
  for (const { key, value } of refs.copyHints) {
    if (graph.recorded(value.snapshotId)) continue;
    findings.push({ kind: 'copy-hint-dangling', where: `copy-hints/${key}`, detail: `snapshot ${value.snapshotId} has no record`, repair: { paths: [], keys: [{ table: 'copyHints', key }], whenIdle: true } });
  }
}

/**
 * checkLeases reports leases whose process died (or whose pid another process now has) and leases past their expiry:
 * collection reclaims them, and until then they keep what they name. It returns their ids and the pids of the
 * processes holding live leases.
 */
async function checkLeases(meta: MetadataStore, findings: StoreFinding[]): Promise<{ stale: Set<string>; holders: number[] }> {
  const now = Date.now();
  const stale = new Set<string>();
  const holders = new Set<number>();
  for (const { key, value } of meta.leases.getRange()) {
    const state = await leaseState(value, now);
    if (state.live) holders.add(value.pid);
    else {
      stale.add(key);
      findings.push({ kind: 'stale-lease', where: `leases/${key}`, detail: `lease of process ${value.pid}: ${state.reason}`, repair: { paths: [], keys: [], lease: { id: key, judgedExpiry: value.expiresAt }, whenIdle: false } });
    }
  }
  return { stale, holders: [...holders] };
}

/** leasedSnapshots lists the snapshots named by every lease but the stale ones. */
function leasedSnapshots(meta: MetadataStore, stale: ReadonlySet<string>): Set<string> {
  const out = new Set<string>();
  for (const key of meta.leaseResources.getKeys()) {
    const res = parseResourceKey(key);
    if (res?.kind === 'snapshot' && !stale.has(res.lease)) out.add(res.id);
  }
  return out;
}

/**
 * checkUnreferenced reports intact snapshots no cache record, image or live lease keeps, left by a crash in a build or a
 * prune; removing one waits until no lease is live.
 */
function checkUnreferenced(refs: References, leased: ReadonlySet<string>, graph: SnapshotGraph, snapshotsDir: string, findings: StoreFinding[]): void {
  const live = new Set<string>();
  const keep = (id: string | null): void => {
    if (id !== null) for (const s of graph.chain(id)) live.add(s);
  };
  for (const { value } of refs.cacheRecords) keep(value.snapshotId);
  for (const { value } of refs.images) for (const part of imageParts(value)) keep(part.snapshotId);
  for (const id of leased) if (graph.intact(id)) keep(id);
  for (const id of graph.ids()) {
    if (live.has(id) || !graph.intact(id)) continue;
    const path = join(snapshotsDir, id);
    findings.push({ kind: 'unreferenced-snapshot', where: path, detail: 'no cache record or image keeps this snapshot', repair: { paths: [path], keys: [{ table: 'snapshots', key: id }], whenIdle: true } });
  }
}

async function checkImages(content: ContentProvider, refs: References, graph: SnapshotGraph, blobs: ReadonlyMap<string, number>, findings: StoreFinding[]): Promise<void> {
  for (const { key, value } of refs.images) {
    const where = `images/${key}`;
    const repair: StoreRepair = { paths: [], keys: [{ table: 'images', key }], whenIdle: true };
    const missing = new Set<string>();
    const need = (digest: string, what: string): void => {
      if (!blobs.has(digest) && !missing.has(digest)) {
        missing.add(digest);
        findings.push({ kind: 'image-blob-missing', where, detail: `${what} ${digest} is not in the content store`, repair });
      }
    };
    need(value.manifestDigest, value.platforms === undefined ? 'manifest' : 'image index');
    for (const b of value.attestationBlobs ?? []) need(b, 'attestation blob');
    for (const part of imageParts(value)) {
      need(part.manifestDigest, 'manifest');
      need(part.configDigest, 'config');
      for (const b of part.blobs ?? []) need(b, 'layer');
      if (part.snapshotId !== null && !graph.intact(part.snapshotId)) {
        findings.push({ kind: 'image-snapshot-missing', where, detail: graph.explain(part.snapshotId), repair });
      }
      // Layers of an image whose files are unpacked live in its snapshots; only imported layers are blobs.
      if (part.snapshotId === null && blobs.has(part.manifestDigest)) {
        const manifest = await readStoredManifest(content, part.manifestDigest);
        for (const l of manifest?.layers ?? []) need(l.digest, 'layer');
      }
    }
  }
}

async function verifyBlobs(content: ContentStore, blobs: ReadonlyMap<string, number>, options: { readonly verification: BlobVerification; readonly signal: AbortSignal }, findings: StoreFinding[]): Promise<number> {
  const all = [...blobs];
  const large = all.filter(([, size]) => size > SAMPLE_SMALL_BYTES);
  const chosen = options.verification === 'all' ? all : [...all.filter(([, size]) => size <= SAMPLE_SMALL_BYTES), ...pickRandom(large, SAMPLE_LARGE_COUNT)];
  for (const [name] of chosen) {
    options.signal.throwIfAborted();
    const digest = parseDigest(name);
    const path = content.blobPath(digest);
    const actual = await hashBlob(content, digest, options.signal);
    if (actual !== undefined && actual !== digest) findings.push({ kind: 'blob-digest-mismatch', where: path, detail: `its bytes hash to ${actual}`, repair: { paths: [path], keys: [], whenIdle: true } });
  }
  return chosen.length;
}

/** hashBlob digests a blob's bytes; undefined when it is gone (collected since the listing). */
async function hashBlob(content: ContentProvider, digest: ReturnType<typeof parseDigest>, signal: AbortSignal): Promise<string | undefined> {
  const digester = new Digester();
  try {
    const stream = content.readBlob(digest);
    signal.addEventListener('abort', () => stream.destroy(signal.reason instanceof Error ? signal.reason : undefined), { once: true });
    for await (const chunk of stream) digester.update(chunk as Buffer);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  return digester.digest();
}

function pickRandom<T>(items: readonly T[], count: number): T[] {
  const pool = [...items];
  const out: T[] = [];
  while (out.length < count && pool.length > 0) out.push(...pool.splice(Math.floor(Math.random() * pool.length), 1));
  return out;
}

async function checkIngest(contentRoot: string, findings: StoreFinding[]): Promise<void> {
  const dir = join(contentRoot, 'ingest');
  for (const name of await readdirOrEmpty(dir)) {
    const pid = Number(name.split('-')[0]);
    if (Number.isInteger(pid) && pid > 0 && isProcessAlive(pid)) continue;
    const path = join(dir, name);
    findings.push({ kind: 'stale-ingest', where: path, detail: Number.isInteger(pid) ? `partial write of process ${pid}, which is not running` : 'partial write of no known process', repair: { paths: [path], keys: [], whenIdle: false } });
  }
}

/**
 * checkTemp reports what builds left in the store's tmp folder. Its exec bundles carry their process's pid; other
 * entries (unpacked contexts, private cache mount copies) do not, so they count as left over only when no build runs.
 */
async function checkTemp(tmpDir: string, building: boolean, findings: StoreFinding[]): Promise<void> {
  const execDir = join(tmpDir, 'exec');
  for (const name of await readdirOrEmpty(tmpDir)) {
    if (name === 'exec' || building) continue;
    const path = join(tmpDir, name);
    findings.push({ kind: 'stale-temp', where: path, detail: 'temporary folder with no build running', repair: { paths: [path], keys: [], whenIdle: true } });
  }
  for (const name of await readdirOrEmpty(execDir)) {
    const pid = Number(/^exec-(\d+)-/.exec(name)?.[1]);
    if (building && (!Number.isInteger(pid) || isProcessAlive(pid))) continue;
    const path = join(execDir, name);
    const dead = Number.isInteger(pid) && !isProcessAlive(pid);
    findings.push({ kind: 'stale-temp', where: path, detail: dead ? `exec bundle of process ${pid}, which is not running` : 'exec bundle with no build running', repair: { paths: [path], keys: [], whenIdle: !dead } });
  }
}

/** checkCacheMountTemp reports half-seeded cache mount folders (with no build running) and info files of dead processes. */
async function checkCacheMountTemp(dir: string, building: boolean, findings: StoreFinding[]): Promise<void> {
  for (const key of await readdirOrEmpty(dir)) {
    for (const name of await readdirOrEmpty(join(dir, key))) {
      const path = join(dir, key, name);
      const pid = Number(/^info\.json\.(\d+)-/.exec(name)?.[1]);
      if (Number.isInteger(pid) && !isProcessAlive(pid)) {
        findings.push({ kind: 'stale-temp', where: path, detail: `cache mount info being written by process ${pid}, which is not running`, repair: { paths: [path], keys: [], whenIdle: false } });
      } else if (name.startsWith('seeding-') && !building) {
        findings.push({ kind: 'stale-temp', where: path, detail: 'half-seeded cache mount with no build running', repair: { paths: [path], keys: [], whenIdle: true } });
      }
    }
  }
}
