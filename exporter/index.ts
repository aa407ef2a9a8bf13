/**
 * Exporters: image assembly, its layers, and the types of every output. The outputs besides the local image store,
 * image indexes, cache exports and attestations are in `lazy.ts`, loaded on first use.
 */
export { buildImage, REWRITTEN_TIMESTAMP, type BuildImageInput, type BuildImageOptions, type BuiltImage } from './image.js';
export { blobFits, exportLayerBlob, type BlobLayer, type ExportLayer, type SnapshotLayer } from './export-layer.js';
export { ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME, parseImageName, type ImageName } from './image-name.js';
export type { ArchiveOptions } from './oci-archive.js';
export type { DockerManifestEntry, SavedImage } from './docker-archive.js';
export type { PlatformIndex, PlatformRootfs } from './image-index.js';
export type { RootfsOptions } from './rootfs-tar.js';
export type { ArchiveDest } from './archive-tar.js';
export { walkMerged } from './merged-walk.js';
export type { TreeEntry } from './tree-entry.js';
export {
  createLayerTar,
  createMemoryLayerBlobCache,
  dockerLayer,
  dockerLayerMediaType,
  getLayerBlob,
  layerBlobKey,
  type Compression,
  type LayerBlob,
  type LayerBlobCache,
  type LayerBlobOptions,
  type LayerTarOptions,
} from './layer/index.js';
export type { DockerEndpoint } from './docker-load.js';
export type { CacheArtifact, CacheConfigOptions, CacheExportRecord } from './cache-export.js';
// What a build records for its provenance as it runs; the attestations made from it are in lazy.ts.
export { commitDigestSet, redactCredentials, type ProvenanceCapture, type ProvenanceSecret, type ProvenanceStep } from './attestation/provenance.js';
export type { AttestationManifest, AttestedImage } from './attestation/attach.js';
export type { Statement } from './attestation/statement.js';
export type { PackageScan } from './attestation/sbom/scan.js';
