import { canonicalJson } from '../base/canonical-json.js';
import type { ContentProvider } from '../cache/index.js';
import { archiveTar, writeStreamTo } from './archive-tar.js';
import type { BuiltImage } from './image.js';
import { parseImageName } from './image-name.js';
import { blobPathOf, ociLayoutFiles, OCI_LAYOUT_DIRS, type ArchiveOptions } from './oci-archive.js';

/** DockerManifestEntry is one image of a `docker save` manifest.json. */
export interface DockerManifestEntry {
  readonly Config: string;
  readonly RepoTags: readonly string[];
  readonly Layers: readonly string[];
}

/**
 * writeDockerArchive writes the `docker save` format that `docker load` reads. Like Docker 25+, the archive is
 * also an OCI image layout: manifest.json points into blobs/sha256. Layers are the stored (compressed) blobs;
 * `docker load` detects and decompresses gzip (and zstd since Docker 23), so nothing is recompressed.
 */
export async function writeDockerArchive(
  image: BuiltImage,
  store: ContentProvider,
  dest: string | NodeJS.WritableStream,
  options: ArchiveOptions,
): Promise<void> {
  const entry: DockerManifestEntry = {
    Config: blobPathOf(image.manifest.config.digest),
    RepoTags: options.names.map((name) => parseImageName(name)).filter((n) => n.tag !== undefined).map((n) => n.familiar),
    Layers: image.layers.map((layer) => blobPathOf(layer.descriptor.digest)),
  };
  const manifestJson = Buffer.from(canonicalJson([entry]));
  const files = [
    ...ociLayoutFiles(image, store, options.names),
    { name: 'manifest.json', size: manifestJson.length, content: () => manifestJson },
  ];
  const tar = archiveTar(OCI_LAYOUT_DIRS, files, { mtime: options.sourceDateEpoch ?? 0, signal: options.signal });
  await writeStreamTo(tar, dest, { signal: options.signal });
}
