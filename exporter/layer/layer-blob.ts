import { Readable } from 'node:stream';
import { Digester, type Digest } from '../../base/digest.js';
import type { Descriptor } from '../../base/oci.js';
import { ContentError } from '../../base/errors.js';
import { decompress, type ContentIngester, type ContentProvider } from '../../cache/index.js';
import { compress, defaultLevel, layerMediaType, type Compression } from './compress.js';
import { layerTarChunks } from './tar-thread.js';

/** LayerBlob is a stored layer blob and the digest of its uncompressed tar. */
export interface LayerBlob {
  readonly descriptor: Descriptor;
  readonly diffId: Digest;
}

/** LayerBlobCache remembers the blob made from a snapshot under a key of compression settings. */
export interface LayerBlobCache {
  /**
   * anyCompression: a blob the snapshot was pulled as may be returned even when its compression differs; exact: only
   * a blob made from the snapshot with these settings, never the one it was pulled as.
   */
  get(snapshotId: string, key: string, options?: { anyCompression?: boolean; exact?: boolean }): Promise<LayerBlob | undefined>;
  set(snapshotId: string, key: string, blob: LayerBlob): Promise<void>;
  /** origin returns the blob the snapshot was unpacked from (a pulled or imported layer), if any. */
  origin(snapshotId: string): Promise<LayerBlob | undefined>;
}

/** LayerBlobOptions controls getLayerBlob. */
export interface LayerBlobOptions {
  readonly compression: Compression;
  readonly level?: number;
  /** sourceDateEpoch clamps the file times later than it (seconds since 1970): only a layer rewritten for an epoch has it. */
  readonly sourceDateEpoch?: number;
  /** false (the default) keeps pulled base layers as they are; true recompresses those of another compression. */
  readonly forceCompression?: boolean;
  /**
   * With sourceDateEpoch, true makes the blob from the snapshot's files with their times clamped even when the layer
   * came pulled or imported as a blob (BuildKit's rewrite-timestamp), memoised under its own key.
   */
  readonly rewriteTimestamp?: boolean;
  /** Where blobs go: only their presence and writing are needed. */
  readonly store: ContentIngester & Pick<ContentProvider, 'info'>;
  /**
   * Where existing blobs are read: a layer unpacked from a blob (or an imported blob) in another compression is
   * converted from that blob, keeping its diff ID, as BuildKit converts. Without it, the snapshot is archived again.
   */
  readonly source?: Pick<ContentProvider, 'info' | 'readBlob'>;
  readonly cache: LayerBlobCache;
  readonly signal: AbortSignal;
}

/** layerBlobKey is the memo key of a blob made with the given settings. */
export function layerBlobKey(options: Pick<LayerBlobOptions, 'compression' | 'level' | 'sourceDateEpoch' | 'rewriteTimestamp'>): string {
  const level = options.level ?? defaultLevel(options.compression);
  const key = `${options.compression}/${level ?? '-'}/${options.sourceDateEpoch ?? '-'}`;
  // Only a blob made from the files with the clamp has this key: one converted from the layer's own blob has not.
  return isRewrite(options) ? `${key}/rewritten` : key;
}

function isRewrite(options: Pick<LayerBlobOptions, 'sourceDateEpoch' | 'rewriteTimestamp'>): boolean {
  return options.rewriteTimestamp === true && options.sourceDateEpoch !== undefined;
}

/** getLayerBlob returns the compressed layer blob of a snapshot, making and storing it unless memoised. */
export async function getLayerBlob(snapshot: { id: string; dir: string }, options: LayerBlobOptions): Promise<LayerBlob> {
  const { signal, store, cache } = options;
  signal.throwIfAborted();
  const key = layerBlobKey(options);
  const rewrite = isRewrite(options);
  const cached = await cache.get(snapshot.id, key, rewrite ? { exact: true } : { anyCompression: options.forceCompression !== true });
  // The store may have collected the blob since; then make it again.
  if (cached !== undefined && (await store.info(cached.descriptor.digest)) !== undefined) return cached;
  const origin = rewrite ? undefined : await cache.origin(snapshot.id);
  if (origin !== undefined && options.source !== undefined && (await options.source.info(origin.descriptor.digest)) !== undefined) {
    const blob = await convertLayerBlob(origin, { ...options, source: options.source });
    await cache.set(snapshot.id, key, blob);
    return blob;
  }

  // The tar is made and digested on the layer tar thread; its chunks move on to the compressor's threads uncopied.
  const tar = layerTarChunks(snapshot.dir, { signal, ...(options.sourceDateEpoch === undefined ? {} : { sourceDateEpoch: options.sourceDateEpoch }) });
  if (options.compression === 'uncompressed') {
    // The blob is the tar itself: its digest is the diff ID.
    const info = await store.writeBlob(Readable.from(tar.chunks, { objectMode: false }), {}, { signal });
    const blob: LayerBlob = { descriptor: { mediaType: layerMediaType('uncompressed'), digest: info.digest, size: info.size }, diffId: info.digest };
    await cache.set(snapshot.id, key, blob);
    return blob;
  }
  const level = options.level === undefined ? {} : { level: options.level };
  const body = Readable.from(compress(tar.chunks, options.compression, { ...level, signal, handOver: true }), { objectMode: false });
  const info = await store.writeBlob(body, {}, { signal });
  const blob: LayerBlob = {
    descriptor: { mediaType: layerMediaType(options.compression), digest: info.digest, size: info.size },
    diffId: tar.diffId(),
  };
  await cache.set(snapshot.id, key, blob);
  return blob;
}

/**
 * convertLayerBlob makes a blob of another compression from a stored layer blob: its bytes decompressed (and checked
 * against its diff ID) and compressed again. The diff ID stays: the layer is the same archive, byte for byte.
 */
export async function convertLayerBlob(blob: LayerBlob, options: LayerBlobOptions & { readonly source: Pick<ContentProvider, 'readBlob'> }): Promise<LayerBlob> {
  const { signal, store } = options;
  const diff = new Digester();
  async function* checked(): AsyncGenerator<Buffer> {
    for await (const chunk of decompress(options.source.readBlob(blob.descriptor.digest), { signal })) {
      diff.update(chunk);
      yield chunk;
    }
    const got = diff.digest();
    if (got !== blob.diffId) throw new ContentError(`Cannot convert layer ${blob.descriptor.digest}: its archive has digest ${got}, not ${blob.diffId}`, { code: 'DIGEST_MISMATCH' });
  }
  const level = options.level === undefined ? {} : { level: options.level };
  const body = Readable.from(compress(checked(), options.compression, { ...level, signal }), { objectMode: false });
  const expected = options.compression === 'uncompressed' ? { digest: blob.diffId } : {};
  const info = await store.writeBlob(body, expected, { signal });
  return { descriptor: { mediaType: layerMediaType(options.compression), digest: info.digest, size: info.size }, diffId: blob.diffId };
}

/** createMemoryLayerBlobCache returns a LayerBlobCache held in memory (for one process). */
export function createMemoryLayerBlobCache(): LayerBlobCache {
  const blobs = new Map<string, LayerBlob>();
  return {
    get: (snapshotId, key) => Promise.resolve(blobs.get(`${snapshotId}\0${key}`)),
    origin: () => Promise.resolve(undefined),
    set: (snapshotId, key, blob) => {
      blobs.set(`${snapshotId}\0${key}`, blob);
      return Promise.resolve();
    },
  };
}
