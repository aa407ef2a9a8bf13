import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createCacheKeyStore, createCacheMountStore, createLayerBlobStore, createLocalContentStore, createSnapshotter, createStoreLease, openMetadataStore, type CacheKeyStore, type CacheMountStore, type ContentStore, type LayerBlobStore, type MetadataStore, type Snapshotter, type StoreLease, type StoreParts } from '../cache/index.js';

/** Store is everything a tbuild root folder holds, opened. */
export interface Store extends AsyncDisposable {
  readonly root: string;
  readonly meta: MetadataStore;
  readonly content: ContentStore;
  readonly snapshotter: Snapshotter;
  readonly layerBlobs: LayerBlobStore;
  /** Results and preimages by cache key: the solver's cache-key storage. */
  readonly cacheKeys: CacheKeyStore;
  /** RUN --mount=type=cache directories, kept across builds. */
  readonly cacheMounts: CacheMountStore;
  /** Folder for short-lived files of this process (bundles, unpacked contexts). */
  readonly tmp: string;
  /**
   * This process's lease: a build holds it while it runs, and the snapshots, blobs and cache records the store's parts
   * hand out meanwhile are added to it, so collection in any process keeps them.
   */
  readonly lease: StoreLease;
}

/**
 * LEASE_LINGER_MS is how long the store's lease outlives the last build that held it: builds that follow one another
 * in a resident builder share it, with what it names, instead of each writing a lease and naming what it finds anew
 * (each a commit that waits for the disk). Collection here drops it first; collection in another process keeps what
 * it names until then.
 */
const LEASE_LINGER_MS = 10_000;
/**
 * LEASE_MAX_SHARE_MS bounds how long builds share one lease: the first build to end after it takes a new one, so that
 * collection in another process (tbuild prune beside a resident builder) finds what earlier builds used free again.
 */
const LEASE_MAX_SHARE_MS = 30_000;

/** openStore opens (creating when needed) the store in a root folder and clears what dead processes left. */
export async function openStore(root: string): Promise<Store> {
  const snapshotsDir = join(root, 'snapshots');
  const tmp = join(root, 'tmp');
  await Promise.all([mkdir(snapshotsDir, { recursive: true }), mkdir(tmp, { recursive: true })]);
  const meta = openMetadataStore(join(root, 'meta'));
  const lease = createStoreLease(meta, { lingerMs: LEASE_LINGER_MS, maxShareMs: LEASE_MAX_SHARE_MS });
  const snapshotter = createSnapshotter(snapshotsDir, meta, lease);
  const content = createLocalContentStore(join(root, 'content'), { lease });
  await Promise.all([snapshotter.recover(), content.recover()]);
  return {
    root,
    meta,
    content,
    snapshotter,
    layerBlobs: createLayerBlobStore(meta),
    cacheKeys: createCacheKeyStore(meta, lease),
    cacheMounts: createCacheMountStore(root, tmp),
    tmp,
    lease,
    [Symbol.asyncDispose]: async () => {
      try {
        await lease.releaseIdle();
      } finally {
        await meta.close();
      }
    },
  };
}

/** storeParts is what collection and disk usage walk over: the whole store, cache mounts included. */
export function storeParts(store: Store): StoreParts {
  return { meta: store.meta, snapshotter: store.snapshotter, content: store.content, cacheMounts: store.cacheMounts };
}
