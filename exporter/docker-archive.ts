import { canonicalJson } from '../base/canonical-json.js';
import type { Digest } from '../base/digest.js';
import { MEDIA_TYPES, type ImageIndex } from '../base/oci.js';
import type { ContentProvider } from '../cache/index.js';
import { writeArchive, type ArchiveDest, type ArchiveFile } from './archive-tar.js';
import type { BuiltImage } from './image.js';
import type { PlatformIndex } from './image-index.js';
import { parseImageName } from './image-name.js';
import { blobPathOf, ociIndexFor, OCI_LAYOUT_DIRS, type ArchiveOptions } from './oci-archive.js';

/** DockerManifestEntry is one image of a `docker save` manifest.json. */
export interface DockerManifestEntry {
  readonly Config: string;
  readonly RepoTags: readonly string[];
  readonly Layers: readonly string[];
}

/** SavedImage is one image of a `docker save` archive and its names. */
export interface SavedImage {
  /** The image `docker load` reads through manifest.json: of an index, the platform the caller picked. */
  readonly image: BuiltImage;
  /** An image of several platforms: index.json names this index, and the archive holds every platform's image. */
  readonly index?: PlatformIndex;
  readonly names: readonly string[];
}

/**
 * writeDockerArchive writes the `docker save` format that `docker load` reads. Like Docker 25+, the archive is
 * also an OCI image layout: manifest.json points into blobs/sha256. Layers are the stored (compressed) blobs;
 * `docker load` detects and decompresses gzip (and zstd since Docker 23), so nothing is recompressed.
 */
export async function writeDockerArchive(
  image: BuiltImage,
  store: ContentProvider,
  dest: ArchiveDest,
  options: ArchiveOptions,
): Promise<void> {
  await writeSavedArchive([{ image, names: options.names }], store, dest, options);
}

/**
 * writeSavedArchive writes several images as `docker save IMAGE...` does since Docker 25: one manifest.json entry per
 * image for `docker load`, and an OCI image layout whose index.json lists each image (or its index) once per name.
 */
export async function writeSavedArchive(
  images: readonly SavedImage[],
  store: ContentProvider,
  dest: ArchiveDest,
  options: { readonly sourceDateEpoch?: number; readonly signal: AbortSignal },
): Promise<void> {
  const blobs = new Map<string, ArchiveFile>();
  const add = (digest: Digest, size: number, content: ArchiveFile['content']): void => {
    blobs.set(digest, { name: blobPathOf(digest), size, content });
  };
  const addImage = (image: BuiltImage): void => {
    add(image.manifestDescriptor.digest, image.manifestBytes.length, () => image.manifestBytes);
    add(image.manifest.config.digest, image.configBytes.length, () => image.configBytes);
    for (const { descriptor } of image.layers) add(descriptor.digest, descriptor.size, () => store.readBlob(descriptor.digest) as AsyncIterable<Buffer>);
  };
  const manifests = [];
  const entries: DockerManifestEntry[] = [];
  for (const saved of images) {
    if (saved.index === undefined) {
      addImage(saved.image);
      manifests.push(...ociIndexFor(saved.image, saved.names).manifests);
    } else {
      const { index } = saved;
      add(index.descriptor.digest, index.bytes.length, () => index.bytes);
      index.images.forEach(addImage);
      for (const a of index.attestations) for (const b of a === undefined ? [] : [a, a.config, ...a.layers]) add(b.descriptor.digest, b.bytes.length, () => b.bytes);
      manifests.push(...ociIndexFor({ ...saved.image, manifestDescriptor: index.descriptor }, saved.names).manifests);
    }
    entries.push({
      Config: blobPathOf(saved.image.manifest.config.digest),
      RepoTags: saved.names.map((name) => parseImageName(name)).filter((n) => n.tag !== undefined).map((n) => n.familiar),
      Layers: saved.image.layers.map((layer) => blobPathOf(layer.descriptor.digest)),
    });
  }
  const layout = Buffer.from(canonicalJson({ imageLayoutVersion: '1.0.0' }));
  const indexJson = Buffer.from(canonicalJson({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests } satisfies ImageIndex));
  const manifestJson = Buffer.from(canonicalJson(entries));
  const files = [
    { name: 'oci-layout', size: layout.length, content: () => layout },
    { name: 'index.json', size: indexJson.length, content: () => indexJson },
    ...blobs.values(),
    { name: 'manifest.json', size: manifestJson.length, content: () => manifestJson },
  ];
  await writeArchive(OCI_LAYOUT_DIRS, files, dest, { mtime: options.sourceDateEpoch ?? 0, signal: options.signal });
}
