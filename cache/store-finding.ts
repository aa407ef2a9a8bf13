import type { MetadataStore } from './metadata.js';

/** StoreFindingKind names one kind of inconsistency a store can have. */
export type StoreFindingKind =
  | 'record-snapshot-missing'
  | 'snapshot-folder-missing'
  | 'snapshot-parent-missing'
  | 'orphan-snapshot-folder'
  | 'unreferenced-snapshot'
  | 'stale-active-snapshot'
  | 'blob-digest-mismatch'
  | 'stale-ingest'
  | 'image-blob-missing'
  | 'image-snapshot-missing'
  | 'layer-blob-record-dangling'
  | 'copy-hint-dangling'
  | 'stale-lease'
  | 'stale-temp';

/** MetadataTable names a table of the metadata database a repair may delete a key from. */
export type MetadataTable = 'cacheRecords' | 'snapshots' | 'images' | 'layerBlobs' | 'copyHints';

/** StoreRepair is what removing one finding takes: files, metadata keys, and whether no build may be running. */
export interface StoreRepair {
  readonly paths: readonly string[];
  readonly keys: readonly { readonly table: MetadataTable; readonly key: string }[];
  /** A lease to drop with everything it names, unless it was refreshed since the check judged it at this expiry. */
  readonly lease?: { readonly id: string; readonly judgedExpiry: number };
  /** Only when no process holds a live lease on the store: its builds may use what this removes. */
  readonly whenIdle: boolean;
}

/** StoreFinding is one inconsistency: its kind, where it is (a file, or a table and key), and what is wrong. */
export interface StoreFinding {
  readonly kind: StoreFindingKind;
  /** A file or folder of the store, or `table/key` for a metadata record. */
  readonly where: string;
  readonly detail: string;
  /** How --repair removes it; absent when it cannot be removed safely. */
  readonly repair?: StoreRepair;
}

/** StoreLayout is where a store's parts are, with its metadata database open. */
export interface StoreLayout {
  readonly meta: MetadataStore;
  readonly snapshotsDir: string;
  /** Holds blobs/sha256 and ingest. */
  readonly contentRoot: string;
  readonly tmpDir: string;
  /** RUN --mount=type=cache folders, one per mount key. */
  readonly cacheMountsDir: string;
}

/** BlobVerification chooses the blobs whose bytes are hashed: all, or the small ones and a sample of the rest. */
export type BlobVerification = 'all' | 'sample';

/** StoreCheck is the outcome of checking a store. */
export interface StoreCheck {
  readonly findings: readonly StoreFinding[];
  readonly verification: BlobVerification;
  readonly blobsHashed: number;
  readonly blobsTotal: number;
  /** Pids of the running processes holding a live lease (building, pushing, saving or loading). */
  readonly leaseHolders: readonly number[];
}
