import { ExportError } from '../base/errors.js';
import { convertLayerBlob, getLayerBlob, type Compression, type LayerBlob, type LayerBlobOptions } from './layer/index.js';

/** SnapshotLayer is a layer held in a snapshot: its blob is made (or found memoised) when it is exported. */
export interface SnapshotLayer {
  readonly kind?: 'snapshot';
  readonly id: string;
  readonly dir: string;
  /** When the layer was made (ms since the epoch): the time its history entry gets. */
  readonly createdAt?: number;
}

/** BlobLayer is a layer known only by its blob and diff ID (an imported cache layer not fetched): exported as it is. */
export interface BlobLayer extends LayerBlob {
  readonly kind: 'blob';
  /** When the layer was made where it was built (ms since the epoch), as its cache record says. */
  readonly createdAt?: number;
}

/** ExportLayer is one layer of an image or a cache record to export, bottom first in a chain. */
export type ExportLayer = SnapshotLayer | BlobLayer;

/**
 * exportLayerBlob returns the blob of a layer: a blob layer's own (converted from it when another compression is
 * forced and the blob is here), or the one made from (or memoised for) a snapshot.
 */
export async function exportLayerBlob(layer: ExportLayer, options: LayerBlobOptions): Promise<LayerBlob> {
  if (layer.kind !== 'blob') return getLayerBlob(layer, options);
  const blob = { descriptor: layer.descriptor, diffId: layer.diffId };
  if (blobFits(layer, options)) return blob;
  const { source } = options;
  if (source === undefined || (await source.info(layer.descriptor.digest)) === undefined) {
    throw new ExportError(`Cannot recompress layer ${layer.descriptor.digest} to ${options.compression}: its blob is not here`);
  }
  return convertLayerBlob(blob, { ...options, source });
}

/** blobFits says whether a blob can be exported as it is: yes unless a recompression to another compression is forced. */
export function blobFits(blob: LayerBlob, options: { readonly compression: Compression; readonly forceCompression?: boolean }): boolean {
  return options.forceCompression !== true || compressionOf(blob.descriptor.mediaType) === options.compression;
}

function compressionOf(mediaType: string): Compression {
  if (mediaType.endsWith('gzip')) return 'gzip';
  if (mediaType.endsWith('zstd')) return 'zstd';
  return 'uncompressed';
}
