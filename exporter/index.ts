/** Exporters: image assembly and the oci, docker, local and tar outputs. */
export { buildImage, type BuildImageInput, type BuildImageOptions, type BuiltImage } from './image.js';
export { blobFits, exportLayerBlob, type BlobLayer, type ExportLayer, type SnapshotLayer } from './export-layer.js';
export { parseImageName, type ImageName } from './image-name.js';
export {
  writeOciArchive,
  ociIndexFor,
  ANNOTATION_IMAGE_NAME,
  ANNOTATION_REF_NAME,
  type ArchiveOptions,
} from './oci-archive.js';
export { writeDockerArchive, writeSavedArchive, type DockerManifestEntry, type SavedImage } from './docker-archive.js';
export { writeLocalDir } from './local-dir.js';
export { SharedPaths } from './shared-paths.js';
export { storePlatformIndex, writeOciIndexArchive, writeRootfsTars, type PlatformIndex, type PlatformRootfs } from './image-index.js';
export { writeRootfsTar, type RootfsOptions } from './rootfs-tar.js';
export type { ArchiveDest } from './archive-tar.js';
export { walkMerged } from './merged-walk.js';
export type { TreeEntry } from './tree-entry.js';
export {
  createLayerTar,
  createMemoryLayerBlobCache,
  getLayerBlob,
  layerBlobKey,
  type Compression,
  type LayerBlob,
  type LayerBlobCache,
  type LayerBlobOptions,
  type LayerTarOptions,
} from './layer/index.js';
export { loadIntoDocker, dockerEndpoint, type DockerEndpoint } from './docker-load.js';
export {
  buildCacheConfig,
  pushCacheArtifact,
  writeCacheArtifact,
  writeCacheLayout,
  type CacheArtifact,
  type CacheConfigOptions,
  type CacheExportRecord,
} from './cache-export.js';
export * from './attestation/index.js';
