import { MEDIA_TYPES, type Descriptor } from '../base/oci.js';
import type { Digest } from '../base/digest.js';
import type { MetadataStore } from './metadata.js';

/** StoredLayerBlob is a layer blob remembered for a snapshot. */
export interface StoredLayerBlob {
  readonly descriptor: Descriptor;
  readonly diffId: Digest;
}

/** LayerBlobStore remembers, per snapshot, the blobs made from it (and the blob it was pulled as). */
export interface LayerBlobStore {
  /** anyCompression: return the pulled blob even when its compression differs from the key's; exact: never the pulled blob. */
  get(snapshotId: string, key: string, options?: { anyCompression?: boolean; exact?: boolean }): Promise<StoredLayerBlob | undefined>;
  set(snapshotId: string, key: string, blob: StoredLayerBlob): Promise<void>;
  /** remember records the blob a snapshot was unpacked from, reused by any export with the same compression. */
  remember(snapshotId: string, blob: StoredLayerBlob): Promise<void>;
  /** origin returns the blob a snapshot was unpacked from, if it was. */
  origin(snapshotId: string): Promise<StoredLayerBlob | undefined>;
}

const ORIGIN = 'origin';

/** createLayerBlobStore keeps layer blob records in the metadata database. */
export function createLayerBlobStore(meta: MetadataStore): LayerBlobStore {
  const read = (snapshotId: string, key: string): StoredLayerBlob | undefined => {
    const value = meta.layerBlobs.get(`${snapshotId}\0${key}`);
    return isStoredLayerBlob(value) ? value : undefined;
  };
  return {
    get(snapshotId, key, options = {}) {
      const exact = read(snapshotId, key);
      if (exact !== undefined || options.exact === true) return Promise.resolve(exact);
      const origin = read(snapshotId, ORIGIN);
      // A pulled layer keeps its registry blob: exports with the same compression share it by digest.
      if (origin !== undefined && (options.anyCompression === true || key.startsWith(`${compressionOf(origin.descriptor.mediaType)}/`))) {
        return Promise.resolve(origin);
      }
      return Promise.resolve(undefined);
    },
    origin: (snapshotId) => Promise.resolve(read(snapshotId, ORIGIN)),
    async set(snapshotId, key, blob) {
      await meta.layerBlobs.put(`${snapshotId}\0${key}`, blob);
    },
    async remember(snapshotId, blob) {
      const descriptor: Descriptor = { mediaType: ociLayerType(blob.descriptor.mediaType), digest: blob.descriptor.digest, size: blob.descriptor.size };
      await meta.layerBlobs.put(`${snapshotId}\0${ORIGIN}`, { descriptor, diffId: blob.diffId });
    },
  };
}

function compressionOf(mediaType: string): 'gzip' | 'zstd' | 'uncompressed' {
  if (mediaType.endsWith('gzip')) return 'gzip';
  if (mediaType.endsWith('zstd')) return 'zstd';
  return 'uncompressed';
}

function ociLayerType(mediaType: string): string {
  switch (compressionOf(mediaType)) {
    case 'gzip':
      return MEDIA_TYPES.ociLayerGzip;
    case 'zstd':
      return MEDIA_TYPES.ociLayerZstd;
    case 'uncompressed':
      return MEDIA_TYPES.ociLayer;
  }
}

function isStoredLayerBlob(value: unknown): value is StoredLayerBlob {
  return typeof value === 'object' && value !== null && 'descriptor' in value && 'diffId' in value;
}
