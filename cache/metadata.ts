import { open, type Database, type RootDatabase } from 'lmdb';
import type { HistoryRecord, HistorySummary } from '../base/build-record.js';
import { METADATA_ROOM_FREEING } from './metadata-room.js';
import { MetadataWrites } from './metadata-writes.js';

/** SnapshotRecord is a committed snapshot: one layer directory and its parent. */
export interface SnapshotRecord {
  readonly id: string;
  readonly parent: string | null;
  readonly createdAt: number;
  readonly description: string;
  readonly size: number;
  /** Digest of the layer's files (paths, types, modes, contents, link targets), once a build needed it. */
  readonly contentDigest?: string;
}

/** CacheRecord links a cache key to the snapshot its op produced. */
export interface CacheRecordValue {
  readonly snapshotId: string | null;
  readonly createdAt: number;
  readonly lastUsedAt: number;
  readonly description: string;
}

/** ImageRecord is one named image in the local image store. */
export interface ImageRecord {
  readonly name: string;
  readonly manifestDigest: string;
  readonly manifestMediaType: string;
  readonly manifestSize: number;
  readonly configDigest: string;
  /** Top snapshot of the image's rootfs, so the image keeps its layers alive. */
  readonly snapshotId: string | null;
  /**
   * Blobs of imported layers the image keeps alive while their files are not unpacked here (its manifest lists every
   * layer uncompressed, as the image is named the same whether its layers were built or imported).
   */
  readonly blobs?: readonly string[];
  readonly createdAt: number;
  /**
   * An image of several platforms: the record names its image index (manifestDigest) and its first platform's
   * image (configDigest, snapshotId, blobs); each platform's image is listed here, and kept alive like the first.
   */
  readonly platforms?: readonly PlatformImageRecord[];
  /**
   * Where the image was pushed: `REGISTRY/REPOSITORY@sha256:…` of each push (Docker's RepoDigests), on every record of
   * the image, oldest first.
   */
  readonly repoDigests?: readonly string[];
  /**
   * The blobs of the attestation manifests an image index loaded from an archive lists (manifests, configs, layers):
   * kept with the image, whose save and push list them again.
   */
  readonly attestationBlobs?: readonly string[];
}

/** PlatformImageRecord is one platform's image of an image index in the local image store. */
export interface PlatformImageRecord {
  readonly manifestDigest: string;
  readonly configDigest: string;
  readonly snapshotId: string | null;
  readonly blobs?: readonly string[];
}

/**
 * ChecksumMemo remembers one directory of a context: the content digests of its files, each under its stat identity,
 * and its listing under its own. It is an array with the identities packed in bytes: as an object, every record
 * carries its structure, and decoding that and the identity strings dominates reading the memo of a large context.
 */
export type ChecksumMemo = readonly [
  version: 3,
  /** Files whose content digests are known, sorted by code unit. */
  names: readonly string[],
  /** Their stat identities: dev, ino, size, mtimeMs and ctimeMs as little-endian float64s, 40 bytes a file. */
  identities: Uint8Array,
  digests: readonly string[],
  /** The directory's own identity (40 bytes) when its names are memoised, else null. */
  listingIdentity: Uint8Array | null,
  /** The directory's entry names in code unit order, or null. */
  listingNames: readonly string[] | null,
];

/** ImagePin is a resolved tag: what manifest and config it pointed at. */
export interface ImagePin {
  readonly digest: string;
  /** Digest of the document the reference named (index or manifest), which a HEAD request compares; absent in older records. */
  readonly namedDigest?: string;
  readonly config: unknown;
  /** When the registry last confirmed the answer: the tag time to live counts from here. */
  readonly resolvedAt: number;
  /** When a check last could not reach the registry (cleared when one does). */
  readonly unreachableAt?: number;
}

/** LeaseRecord is a lease a process holds on what its builds use: collection keeps what a live, unexpired lease names. */
export interface LeaseRecord {
  readonly pid: number;
  /** The process's start time (clock ticks after boot, /proc/<pid>/stat): a reused pid does not keep the lease alive. */
  readonly processStart: number;
  readonly createdAt: number;
  /** The holder pushes this forward while it lives; past it, the lease is reclaimed whatever the process. */
  readonly expiresAt: number;
}

/** BlobLocationRecord lists repositories of one registry known to hold a blob, most recently seen first. */
export interface BlobLocationRecord {
  readonly repositories: readonly string[];
}

/** CopyHint names the layer the last run of a COPY vertex made, whose unchanged files a new run may share. */
export interface CopyHint {
  readonly snapshotId: string;
  /** When that run started: source files changed since are never shared. */
  readonly startedAt: number;
}

/** HttpSourceRecord is what earlier downloads of one URL gave, newest first, to revalidate it by ETag. */
export interface HttpSourceRecord {
  readonly seen: readonly {
    readonly etag: string;
    readonly digest: string;
    readonly filename: string;
    /** Last-Modified as an ISO time; '' without one. */
    readonly mtime: string;
  }[];
}

/** KeyPreimageRecord is what a cache key was computed from, as the solver described it, and when it was recorded. */
export interface KeyPreimageRecord {
  readonly recordedAt: number;
  readonly preimage: unknown;
}

/** MetadataStore is the ACID metadata database of a tbuild root, safe for several processes. */
export interface MetadataStore extends AsyncDisposable {
  readonly snapshots: Database<SnapshotRecord, string>;
  readonly cacheRecords: Database<CacheRecordValue, string>;
  readonly images: Database<ImageRecord, string>;
  readonly layerBlobs: Database<unknown, string>;
  readonly checksums: Database<ChecksumMemo, string>;
  readonly imagePins: Database<ImagePin, string>;
  /** Leases by id: what processes hold while their builds run (see cache/leases.ts). */
  readonly leases: Database<LeaseRecord, string>;
  /** Keyed `lease kind id` (NUL-separated): the snapshots, blobs and cache records each lease keeps. */
  readonly leaseResources: Database<true, string>;
  readonly copyHints: Database<CopyHint, string>;
  /** Keyed `registry digest`: where pulls, pushes and imported caches saw a blob, for cross-repository mounts. */
  readonly blobLocations: Database<BlobLocationRecord, string>;
  /** Keyed by URL: ETags of earlier ADD downloads, so an unchanged file is not downloaded again. */
  readonly httpSources: Database<HttpSourceRecord, string>;
  /** Keyed by cache key: what each key was computed from, so a cache miss can be explained. */
  readonly keyPreimages: Database<KeyPreimageRecord, string>;
  /** Keyed by record ref: the build history (see base/build-record.ts); the logs are files beside the database. */
  readonly buildHistory: Database<HistoryRecord, string>;
  /** Keyed by record ref: what retention reads of each record, so pruning after a build decodes no whole record. */
  readonly historyIndex: Database<HistorySummary, string>;
  /** Keyed by context checksum: the files it covered (gzip of `path\0description` lines), so history can say which changed. */
  readonly checksumListings: Database<Uint8Array, string>;
  /** Keyed by bound name: what automatic collection knows of the store's size and age without reading it all (usage-bounds.ts). */
  readonly usageBounds: Database<number, string>;
  /** The folder of the database files. */
  readonly path: string;
  /**
   * transactSync runs `action` in one write transaction of the whole database, serialised with every other process's
   * writes: what it reads cannot change before what it writes commits. A transaction that mostly removes (`freeing`:
   * dropping a lease, collection) still runs on a full disk while the database has a little room left.
   */
  transactSync<T>(action: () => T, options?: { readonly freeing?: boolean }): T;
  /**
   * transact runs `action` in one write transaction as transactSync does, but queued with the asynchronous writes: this
   * thread never waits for the disk; the promise resolves once the transaction is durable.
   */
  transact<T>(action: () => T): Promise<T>;
  close(): Promise<void>;
}

/**
 * openMetadataStore opens (or creates) the metadata database in `dir`; tables a store made by an earlier tbuild lacks are
 * created empty. The `jobs` table of earlier stores (running builds, which leases now tell) is left as it is, unread.
 */
export function openMetadataStore(dir: string): MetadataStore {
  const root: RootDatabase = open({ path: dir, compression: false, maxDbs: 32, noSubdir: false });
  const writes = new MetadataWrites(root, dir);
  const sub = <V>(name: string): Database<V, string> => writes.table(root.openDB<V, string>({ name, encoding: 'msgpack' }));
  const store: MetadataStore = {
    snapshots: sub<SnapshotRecord>('snapshots'),
    cacheRecords: sub<CacheRecordValue>('cache-records'),
    images: sub<ImageRecord>('images'),
    layerBlobs: sub<unknown>('layer-blobs'),
    checksums: sub<ChecksumMemo>('dir-checksums'),
    imagePins: sub<ImagePin>('image-pins'),
    leases: sub<LeaseRecord>('leases'),
    leaseResources: sub<true>('lease-resources'),
    copyHints: sub<CopyHint>('copy-hints'),
    blobLocations: sub<BlobLocationRecord>('blob-locations'),
    httpSources: sub<HttpSourceRecord>('http-sources'),
    keyPreimages: sub<KeyPreimageRecord>('key-preimages'),
    buildHistory: sub<HistoryRecord>('build-history'),
    historyIndex: sub<HistorySummary>('build-history-index'),
    checksumListings: writes.table(root.openDB<Uint8Array, string>({ name: 'checksum-listings', encoding: 'binary' })),
    usageBounds: sub<number>('usage-bounds'),
    path: dir,
    transactSync: (action, options) => writes.transactSync(action, options?.freeing === true ? METADATA_ROOM_FREEING : undefined),
    transact: (action) => writes.transact(action),
    close: () => {
      writes.close();
      return root.close();
    },
    [Symbol.asyncDispose]: () => store.close(),
  };
  return store;
}
