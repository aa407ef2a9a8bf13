import { canonicalJson } from '../base/canonical-json.js';
import { digestHex, type Digest } from '../base/digest.js';
import { MEDIA_TYPES, type Descriptor, type ImageIndex } from '../base/oci.js';
import type { ContentProvider } from '../cache/index.js';
import { writeArchive, type ArchiveDest, type ArchiveFile } from './archive-tar.js';
import type { AttestedImage } from './attestation/index.js';
import type { BuiltImage } from './image.js';
import { ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME, parseImageName, type ImageName } from './image-name.js';

/** ArchiveOptions controls the OCI and Docker archive outputs. */
export interface ArchiveOptions {
  /** names are image references; each becomes an index entry (and a Docker RepoTag). */
  readonly names: readonly string[];
  /** sourceDateEpoch is the mtime of every archive entry (0 when unset, so archives are reproducible). */
  readonly sourceDateEpoch?: number;
  /** Annotations of the archive's index.json (`annotation-index.KEY=VALUE`). */
  readonly indexAnnotations?: Readonly<Record<string, string>>;
  /** The image's attestations: the archive's names then point at the image index listing both (OCI archives only). */
  readonly attested?: AttestedImage;
  readonly signal: AbortSignal;
}

/**
 * ociIndexFor lists the manifest (or, for an attested image, its image index) once per name, annotated as BuildKit and
 * containerd do.
 */
export function ociIndexFor(image: BuiltImage, names: readonly string[], annotations?: Readonly<Record<string, string>>, attested?: AttestedImage): ImageIndex {
  const root = attested?.index.descriptor ?? image.manifestDescriptor;
  const manifests: Descriptor[] =
    names.length === 0
      ? [root]
      : names.map((name) => {
          const parsed = parseImageName(name);
          return { ...root, annotations: { [ANNOTATION_IMAGE_NAME]: parsed.full, [ANNOTATION_REF_NAME]: ociRefName(parsed) } };
        });
  const extra = annotations === undefined || Object.keys(annotations).length === 0 ? {} : { annotations: { ...annotations } };
  return { schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests, ...extra };
}

/**
 * ociRefName is a name's OCI reference name as containerd's archive exporter writes it: what follows the repository,
 * the tag and the digest (`v1`, `v1@sha256:…`, or `@sha256:…` for a name by digest only).
 */
function ociRefName(parsed: ImageName): string {
  const at = parsed.full.indexOf('@');
  return `${parsed.tag ?? ''}${at < 0 ? '' : parsed.full.slice(at)}`;
}

/** blobPathOf is the layout path of a blob. */
export function blobPathOf(digest: Digest): string {
  return `blobs/sha256/${digestHex(digest)}`;
}

/** ociLayoutFiles lists the files of an OCI image layout holding the image. */
export function ociLayoutFiles(
  image: BuiltImage,
  store: ContentProvider,
  names: readonly string[],
  indexAnnotations?: Readonly<Record<string, string>>,
  attested?: AttestedImage,
): ArchiveFile[] {
  const layout = Buffer.from(canonicalJson({ imageLayoutVersion: '1.0.0' }));
  // An attested image's index annotations are on its image index, which index.json points at.
  const index = Buffer.from(canonicalJson(ociIndexFor(image, names, attested === undefined ? indexAnnotations : undefined, attested)));
  const blobs = new Map<string, ArchiveFile>();
  const add = (digest: Digest, size: number, content: ArchiveFile['content']): void => {
    blobs.set(digest, { name: blobPathOf(digest), size, content });
  };
  add(image.manifestDescriptor.digest, image.manifestBytes.length, () => image.manifestBytes);
  add(image.manifest.config.digest, image.configBytes.length, () => image.configBytes);
  for (const layer of image.layers) {
    const { digest, size } = layer.descriptor;
    add(digest, size, () => store.readBlob(digest) as AsyncIterable<Buffer>);
  }
  if (attested !== undefined) {
    const { attestation } = attested;
    for (const blob of [attested.index, attestation, attestation.config, ...attestation.layers]) add(blob.descriptor.digest, blob.bytes.length, () => blob.bytes);
  }
  return [
    { name: 'oci-layout', size: layout.length, content: () => layout },
    { name: 'index.json', size: index.length, content: () => index },
    ...blobs.values(),
  ];
}

/** OCI_LAYOUT_DIRS are the directories of an OCI image layout. */
export const OCI_LAYOUT_DIRS: readonly string[] = ['blobs', 'blobs/sha256'];

/** writeOciArchive writes the image as an OCI image layout in a tar (deterministic for the same image and options). */
export async function writeOciArchive(
  image: BuiltImage,
  store: ContentProvider,
  dest: ArchiveDest,
  options: ArchiveOptions,
): Promise<void> {
  const files = ociLayoutFiles(image, store, options.names, options.indexAnnotations, options.attested);
  await writeArchive(OCI_LAYOUT_DIRS, files, dest, { mtime: options.sourceDateEpoch ?? 0, signal: options.signal });
}
