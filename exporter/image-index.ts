import { lstat } from 'node:fs/promises';
import { canonicalJson } from '../base/canonical-json.js';
import { digestOf } from '../base/digest.js';
import { ExportError } from '../base/errors.js';
import { MEDIA_TYPES, type Descriptor, type ImageIndex } from '../base/oci.js';
import type { ContentIngester, ContentProvider } from '../cache/index.js';
import { writeArchive, writeStreamTo, type ArchiveDest, type ArchiveFile } from './archive-tar.js';
import type { AttestationManifest } from './attestation/index.js';
import type { BuiltImage } from './image.js';
import { tarEntries } from './layer/index.js';
import { walkMerged } from './merged-walk.js';
import { SharedPaths } from './shared-paths.js';
import { blobPathOf, ociIndexFor, ociLayoutFiles, OCI_LAYOUT_DIRS, type ArchiveOptions } from './oci-archive.js';
import type { RootfsOptions } from './rootfs-tar.js';
import type { TreeEntry } from './tree-entry.js';

/** PlatformIndex is the image index of several platforms' images, stored in the content store. */
export interface PlatformIndex {
  readonly images: readonly BuiltImage[];
  /** Each image's attestation manifest, if it has one (by the images' order). */
  readonly attestations: readonly (AttestationManifest | undefined)[];
  readonly index: ImageIndex;
  readonly bytes: Uint8Array;
  readonly descriptor: Descriptor;
}

/**
 * storePlatformIndex writes the OCI image index listing each image manifest with its platform, in the order of the
 * images (the order the platforms were asked in, as BuildKit lists them), then the images' attestation manifests.
 */
export async function storePlatformIndex(
  images: readonly BuiltImage[],
  store: ContentIngester,
  o: { readonly annotations?: Readonly<Record<string, string>>; readonly attestations?: readonly (AttestationManifest | undefined)[]; readonly signal: AbortSignal },
): Promise<PlatformIndex> {
  const attestations = o.attestations ?? [];
  const annotations = o.annotations === undefined || Object.keys(o.annotations).length === 0 ? {} : { annotations: { ...o.annotations } };
  // Images of Docker media types are listed by a Docker manifest list, as BuildKit lists them with oci-mediatypes=false.
  const mediaType = images.length > 0 && images.every((i) => i.manifestDescriptor.mediaType === MEDIA_TYPES.dockerManifest) ? MEDIA_TYPES.dockerManifestList : MEDIA_TYPES.ociIndex;
  if (mediaType === MEDIA_TYPES.dockerManifestList && (Object.keys(annotations).length > 0 || attestations.some((a) => a !== undefined))) {
    throw new ExportError('Cannot make a Docker manifest list with annotations or attestations: they need OCI media types (oci-mediatypes=true)');
  }
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType,
    manifests: [
      ...images.map((i) => {
        const { mediaType, digest, size, platform } = i.manifestDescriptor;
        return { mediaType, digest, size, ...(platform === undefined ? {} : { platform }) };
      }),
      ...attestations.flatMap((a) => (a === undefined ? [] : [a.descriptor])),
    ],
    ...annotations,
  };
  const bytes = Buffer.from(canonicalJson(index));
  const digest = digestOf(bytes);
  await store.writeBlob(bytes, { digest, size: bytes.length }, { signal: o.signal });
  return { images, attestations, index, bytes, descriptor: { mediaType, digest, size: bytes.length } };
}

/** writeOciIndexArchive writes an OCI image layout whose index.json names the image index of every platform's image. */
export async function writeOciIndexArchive(
  platformIndex: PlatformIndex,
  store: ContentProvider,
  dest: ArchiveDest,
  options: Omit<ArchiveOptions, 'attested'>,
): Promise<void> {
  const [first] = platformIndex.images;
  if (first === undefined) throw new RangeError('an image index lists at least one image');
  const blobs = new Map<string, ArchiveFile>();
  for (const image of platformIndex.images) for (const f of ociLayoutFiles(image, store, [])) if (f.name.startsWith('blobs/')) blobs.set(f.name, f);
  for (const a of platformIndex.attestations) {
    for (const blob of a === undefined ? [] : [a, a.config, ...a.layers]) {
      const name = blobPathOf(blob.descriptor.digest);
      blobs.set(name, { name, size: blob.bytes.length, content: () => blob.bytes });
    }
  }
  const indexName = blobPathOf(platformIndex.descriptor.digest);
  blobs.set(indexName, { name: indexName, size: platformIndex.bytes.length, content: () => platformIndex.bytes });
  // index.json lists the image index once per name, as it lists a single image.
  const root = ociIndexFor({ ...first, manifestDescriptor: platformIndex.descriptor }, options.names, options.indexAnnotations);
  const rootBytes = Buffer.from(canonicalJson(root));
  const layout = Buffer.from(canonicalJson({ imageLayoutVersion: '1.0.0' }));
  const files: ArchiveFile[] = [
    { name: 'oci-layout', size: layout.length, content: () => layout },
    { name: 'index.json', size: rootBytes.length, content: () => rootBytes },
    ...blobs.values(),
  ];
  await writeArchive(OCI_LAYOUT_DIRS, files, dest, { mtime: options.sourceDateEpoch ?? 0, signal: options.signal });
}

/**
 * PlatformRootfs is one platform's merged filesystem and the folder it goes in (`linux_arm64`), or '' for the root of
 * the tar that every platform fills together (platform-split=false).
 */
export interface PlatformRootfs {
  readonly platform: string;
  readonly folder: string;
  readonly layers: readonly { readonly dir: string }[];
}

/**
 * writeRootfsTars writes each platform's filesystem below its own folder of one tar, as BuildKit's tar exporter does;
 * platforms without a folder share the root, where a file of one platform cannot take the place of another's.
 */
export async function writeRootfsTars(platforms: readonly PlatformRootfs[], dest: string | NodeJS.WritableStream, options: RootfsOptions): Promise<void> {
  const mtime = options.sourceDateEpoch === undefined ? {} : { mtime: options.sourceDateEpoch };
  await writeStreamTo(tarEntries(prefixedEntries(platforms, options.signal), { ...mtime, signal: options.signal }), dest, { signal: options.signal });
}

async function* prefixedEntries(platforms: readonly PlatformRootfs[], signal: AbortSignal): AsyncGenerator<TreeEntry> {
  const shared = new SharedPaths();
  for (const p of platforms) {
    const top = p.layers.at(-1);
    if (p.folder === '') {
      for await (const entry of walkMerged(p.layers.map((l) => l.dir), { signal })) if (shared.claim(entry.rel, p.platform, entry.stat.isDirectory())) yield entry;
      continue;
    }
    // The platform's folder has the attributes of its filesystem's root.
    if (top !== undefined) yield { rel: p.folder, source: top.dir, stat: await lstat(top.dir), whiteout: false, opaque: false };
    for await (const entry of walkMerged(p.layers.map((l) => l.dir), { signal })) yield { ...entry, rel: `${p.folder}/${entry.rel}` };
  }
}
