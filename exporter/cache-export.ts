import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { canonicalJson } from '../base/canonical-json.js';
import { digestHex, type Digest } from '../base/digest.js';
import { errnoCode, ExportError } from '../base/errors.js';
import { MEDIA_TYPES, type Descriptor } from '../base/oci.js';
import { CACHE_ARTIFACT_TYPE, CACHE_CONFIG_MEDIA_TYPE, layerDescriptor, type CacheConfig, type CacheConfigRecord, type CacheLayer, type ContentStore } from '../cache/index.js';
import type { BlobOpener, PushProgress, RegistryClient } from '../registry/index.js';
import { parseReference } from '../registry/index.js';
import { exportLayerBlob, type ExportLayer } from './export-layer.js';
import { dockerLayerMediaType, type Compression, type LayerBlobCache } from './layer/index.js';

/** CacheExportRecord is one cache key and the layers of its result, bottom first. */
export interface CacheExportRecord {
  readonly key: Digest;
  readonly chain: readonly ExportLayer[];
}

/** CacheConfigOptions control how cache layer blobs are made. */
export interface CacheConfigOptions {
  readonly compression: Compression;
  readonly sourceDateEpoch?: number;
  readonly store: ContentStore;
  readonly cache: LayerBlobCache;
  readonly signal: AbortSignal;
}

/** buildCacheConfig makes (or reuses) the layer blobs of every record and lists them, sorted for a stable digest. */
export async function buildCacheConfig(records: readonly CacheExportRecord[], options: CacheConfigOptions): Promise<CacheConfig> {
  const layers: CacheLayer[] = [];
  const indexOf = new Map<string, number>();
  const out: CacheConfigRecord[] = [];
  for (const record of [...records].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
    const indexes: number[] = [];
    // One layer at a time: each compression already uses every core.
    for (const layer of record.chain) {
      const id = layer.kind === 'blob' ? layer.descriptor.digest : layer.id;
      let i = indexOf.get(id);
      if (i === undefined) {
        // Any compression will do in a cache: imported blobs are listed as they are.
        const blob = await exportLayerBlob(layer, { ...options });
        i = layers.findIndex((l) => l.digest === blob.descriptor.digest);
        if (i < 0) {
          i = layers.length;
          layers.push({
            mediaType: blob.descriptor.mediaType,
            digest: blob.descriptor.digest,
            size: blob.descriptor.size,
            diffId: blob.diffId,
            ...(layer.createdAt === undefined ? {} : { createdAt: new Date(layer.createdAt).toISOString() }),
          });
        }
        indexOf.set(id, i);
      }
      indexes.push(i);
    }
    const layer = indexes.pop();
    if (out.some((r) => r.key === record.key)) continue;
    out.push({ key: record.key, layer: layer ?? null, parent: indexes });
  }
  return { schemaVersion: 1, layers, records: out };
}

/** CacheArtifact is an exported cache as an OCI document: the config blob, the layers and the index or manifest. */
export interface CacheArtifact {
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
  readonly document: Uint8Array;
  readonly documentMediaType: string;
  /** The document's descriptor (it is in the content store too). */
  readonly documentDescriptor: Descriptor;
}

/** CacheArtifactOptions choose the form of the cache document, as BuildKit's image-manifest and oci-mediatypes do. */
export interface CacheArtifactOptions {
  /** An OCI image manifest whose config is the cache config, instead of an index listing every blob. */
  readonly imageManifest: boolean;
  /** false: Docker media types (a manifest list and Docker layer types); an image manifest needs OCI ones. */
  readonly ociMediaTypes: boolean;
  readonly store: ContentStore;
  readonly signal: AbortSignal;
}

/** writeCacheArtifact stores the cache config blob and returns the index (or, with imageManifest, the manifest) that lists it. */
export async function writeCacheArtifact(config: CacheConfig, options: CacheArtifactOptions): Promise<CacheArtifact> {
  if (options.imageManifest && !options.ociMediaTypes) {
    throw new ExportError('Cannot export a cache as an image manifest with Docker media types: an image manifest cache needs OCI media types');
  }
  const info = await options.store.writeBlob(Buffer.from(canonicalJson(config)), {}, { signal: options.signal });
  const configDescriptor: Descriptor = { mediaType: CACHE_CONFIG_MEDIA_TYPE, digest: info.digest, size: info.size };
  const layers = config.layers.map((l) => {
    const d = layerDescriptor(l);
    return options.ociMediaTypes ? d : { ...d, mediaType: dockerLayerMediaType(d.mediaType) };
  });
  const indexType = options.ociMediaTypes ? MEDIA_TYPES.ociIndex : MEDIA_TYPES.dockerManifestList;
  const doc = options.imageManifest
    ? { schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, artifactType: CACHE_ARTIFACT_TYPE, config: configDescriptor, layers }
    : { schemaVersion: 2, mediaType: indexType, ...(options.ociMediaTypes ? { artifactType: CACHE_ARTIFACT_TYPE } : {}), manifests: [...layers, configDescriptor] };
  const document = Buffer.from(canonicalJson(doc));
  const written = await options.store.writeBlob(document, {}, { signal: options.signal });
  const documentDescriptor: Descriptor = { mediaType: doc.mediaType, digest: written.digest, size: written.size };
  return { config: configDescriptor, layers, document, documentMediaType: doc.mediaType, documentDescriptor };
}

/** pushCacheArtifact uploads the blobs the registry lacks (read through `blobs`) and tags the cache document. */
export async function pushCacheArtifact(
  artifact: CacheArtifact,
  refText: string,
  options: { registry: RegistryClient; blobs: BlobOpener; signal: AbortSignal; onProgress?: (event: PushProgress) => void },
): Promise<Digest> {
  const pushed = await options.registry.pushImage(
    parseReference(refText),
    { manifest: artifact.document, manifestMediaType: artifact.documentMediaType, config: artifact.config, layers: artifact.layers },
    options.blobs,
    { signal: options.signal, ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }) },
  );
  return pushed.digest;
}

/** writeCacheLayout writes the cache as an OCI layout folder (blobs already there are kept). */
export async function writeCacheLayout(artifact: CacheArtifact, dir: string, options: { store: ContentStore; signal: AbortSignal }): Promise<void> {
  const blobs = join(dir, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const documentDescriptor = artifact.documentDescriptor;
  for (const d of [...artifact.layers, artifact.config, documentDescriptor]) {
    options.signal.throwIfAborted();
    const path = join(blobs, digestHex(d.digest));
    if ((await sizeOf(path)) === d.size) continue;
    const tmp = `${path}.tmp-${process.pid}`;
    try {
      await pipeline(options.store.readBlob(d.digest), createWriteStream(tmp), { signal: options.signal });
      await rename(tmp, path);
    } finally {
      await rm(tmp, { force: true });
    }
  }
  const index = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociIndex,
    manifests: [
      {
        mediaType: artifact.documentMediaType,
        digest: documentDescriptor.digest,
        size: documentDescriptor.size,
        artifactType: CACHE_ARTIFACT_TYPE,
        annotations: { 'org.opencontainers.image.ref.name': 'latest' },
      },
    ],
  };
  await writeAtomically(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}\n');
  await writeAtomically(join(dir, 'index.json'), canonicalJson(index));
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}
