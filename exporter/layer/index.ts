/** Layer blobs: snapshot → tar → compressed blob in the content store. */
export { compress, dockerLayer, dockerLayerMediaType, layerMediaType, parallelGzip, GZIP_CHUNK, type Compression, type ParallelGzipOptions } from './compress.js';
export { createLayerTar, type LayerTarOptions } from './layer-tar.js';
export {
  convertLayerBlob,
  createMemoryLayerBlobCache,
  getLayerBlob,
  layerBlobKey,
  type LayerBlob,
  type LayerBlobCache,
  type LayerBlobOptions,
} from './layer-blob.js';
export { tarEntries, readXattrs, type TarEntriesOptions } from './tar-entries.js';
export { walkSnapshot } from './walk.js';
