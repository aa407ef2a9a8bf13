import { open, readFile } from 'node:fs/promises';
import { canonicalJson } from '../base/canonical-json.js';
import { digestOf, parseDigest, type Digest } from '../base/digest.js';
import { ExportError, RegistryError, UsageError } from '../base/errors.js';
import { MEDIA_TYPES, type Descriptor, type ImageConfig, type ImageIndex, type ImageManifest } from '../base/oci.js';
import { imageParts, type ImageRecord, type PlatformImageRecord } from '../cache/index.js';
import { dockerLayer, exportLayerBlob, REWRITTEN_TIMESTAMP, type BuiltImage, type ExportLayer, type PlatformIndex } from '../exporter/index.js';
import { formatReference, parseReference } from '../registry/index.js';
import { imageIdOf, isDangling } from './image-naming.js';
import { snapshotLayers } from './solved-rootfs.js';
import { keptAttestations } from './stored-attestations.js';
import type { Store } from './store.js';

/** ExportableImage is a stored image with its layers as blobs: one image, or an index of several platforms' images. */
export type ExportableImage = { readonly kind: 'image'; readonly image: BuiltImage } | { readonly kind: 'index'; readonly index: PlatformIndex };

/**
 * findStoredImage finds the image an argument names, as Docker resolves one: a name (`app`, `app:1`, fully qualified),
 * else an image ID or a prefix of one that names a single image.
 */
export function findStoredImage(store: Store, arg: string): ImageRecord {
  const name = nameOf(arg);
  const named = name === undefined ? undefined : store.meta.images.get(name);
  if (named !== undefined) return named;
  const hex = /^(?:sha256:)?([0-9a-f]{4,64})$/.exec(arg)?.[1];
  if (hex !== undefined) {
    const matches = [...store.meta.images.getRange()].map((e) => e.value).filter((r) => imageIdOf(r).slice('sha256:'.length).startsWith(hex));
    const ids = new Set(matches.map(imageIdOf));
    if (ids.size > 1) throw new UsageError(`Cannot use "${arg}": the prefix names ${ids.size} images`, { hint: 'give more of the image ID' });
    const [first] = matches;
    if (first !== undefined) return first;
  }
  throw new UsageError(`No such image: ${arg}`, { hint: "'tbuild images' lists the local image store" });
}

/** namesOfImage lists the names that hold the image a record is (none for a dangling image). */
export function namesOfImage(store: Store, rec: ImageRecord): string[] {
  const id = imageIdOf(rec);
  return [...store.meta.images.getRange()].map((e) => e.value).filter((r) => !isDangling(r) && imageIdOf(r) === id).map((r) => r.name);
}

/** nameOf normalises a name as the store keeps it (docker.io/library/x:latest), or undefined if it is none. */
export function nameOf(arg: string): string | undefined {
  try {
    return formatReference(parseReference(arg));
  } catch (err) {
    // Not a name (an image ID, say): the caller tries the other reading.
    if (err instanceof RegistryError && err.code === 'REFERENCE_INVALID') return undefined;
    throw err;
  }
}

/** readJsonBlob reads a manifest, index or config of the content store. */
export async function readJsonBlob<T>(store: Store, digest: string): Promise<{ value: T; bytes: Buffer }> {
  const bytes = await readFile(store.content.blobPath(parseDigest(digest)));
  return { value: JSON.parse(bytes.toString('utf8')) as T, bytes };
}

/** ExportOptions say how layers leave the store: gzip for a push, as they are listed (uncompressed) for an archive. */
export interface ExportOptions {
  readonly compression: 'gzip' | 'uncompressed';
  readonly signal: AbortSignal;
}

/**
 * exportableImage makes a stored image ready to leave the store with its layer blobs. A push compresses them (gzip),
 * as the Docker Engine does, with a manifest listing the compressed blobs (an image of several platforms: a new index
 * of those); the config, so the image ID, stays. Uncompressed, the blobs are the layers' archives the manifest lists
 * already, so an archive keeps the manifest and the index too (as `docker save` writes layers uncompressed).
 */
export async function exportableImage(store: Store, rec: ImageRecord, o: ExportOptions): Promise<ExportableImage> {
  if (rec.platforms === undefined) return { kind: 'image', image: await exportablePart(store, rec, o) };
  const images: BuiltImage[] = [];
  const parts = imageParts(rec);
  for (const part of parts) images.push(await exportablePart(store, part, o));
  const { value: stored, bytes } = await readJsonBlob<ImageIndex>(store, rec.manifestDigest);
  const { storePlatformIndex } = await import('../exporter/lazy.js');
  // The attestations an index loaded from an archive listed leave with their images.
  const attestations = rec.attestationBlobs === undefined ? [] : await keptAttestations(store, stored, parts, images);
  // An index whose images and attestations all leave as they are leaves as it is, byte for byte.
  const unchanged = images.every((image, i) => image.manifestDescriptor.digest === parts[i]?.manifestDigest);
  if (unchanged && stored.manifests.length === images.length + attestations.filter((a) => a !== undefined).length) {
    const descriptor = { mediaType: rec.manifestMediaType, digest: parseDigest(rec.manifestDigest), size: bytes.length };
    return { kind: 'index', index: { images, attestations, index: stored, bytes, descriptor } };
  }
  const index = await storePlatformIndex(images, store.content, { ...(stored.annotations === undefined ? {} : { annotations: stored.annotations }), attestations, signal: o.signal });
  return { kind: 'index', index };
}

async function exportablePart(store: Store, part: PlatformImageRecord, o: ExportOptions): Promise<BuiltImage> {
  const manifest = await readJsonBlob<ImageManifest>(store, part.manifestDigest);
  const config = await readJsonBlob<ImageConfig>(store, part.configDigest);
  const diffIds = config.value.rootfs.diff_ids;
  const present = await Promise.all(manifest.value.layers.map(async (l) => (await store.content.info(l.digest)) !== undefined));
  const platform = { os: config.value.os, architecture: config.value.architecture, ...(config.value.variant === undefined ? {} : { variant: config.value.variant }) };
  const plain = manifest.value.layers.some((l) => l.mediaType === MEDIA_TYPES.ociLayer || l.mediaType === MEDIA_TYPES.dockerLayer);
  if (present.every(Boolean) && (o.compression === 'uncompressed' || !plain)) {
    // Its blobs are here (a pushed or loaded image, or one saved before): it leaves as it is.
    const descriptor = { mediaType: manifest.value.mediaType ?? MEDIA_TYPES.ociManifest, digest: parseDigest(part.manifestDigest), size: manifest.bytes.length, platform };
    const layers = manifest.value.layers.map((l, i) => ({ descriptor: l, diffId: diffIds[i] ?? l.digest }));
    return { manifest: manifest.value, manifestBytes: manifest.bytes, manifestDescriptor: descriptor, config: config.value, configBytes: config.bytes, layers };
  }
  const sources = await layerSources(store, part, diffIds);
  if (sources.length !== manifest.value.layers.length) {
    throw new ExportError(`Cannot export image ${part.manifestDigest}: the store holds ${sources.length} of its ${manifest.value.layers.length} layers`, { hint: 'build it again' });
  }
  const layers = [];
  for (const [i, source] of sources.entries()) {
    // A layer exported with rewrite-timestamp=true is made again from its snapshot with its file times clamped alike.
    const rewritten = manifest.value.layers[i]?.annotations?.[REWRITTEN_TIMESTAMP];
    const epoch = rewritten === undefined ? {} : { sourceDateEpoch: Number(rewritten), rewriteTimestamp: true };
    const made = await exportLayerBlob(source, { compression: o.compression, forceCompression: o.compression === 'uncompressed', store: store.content, source: store.content, cache: store.layerBlobs, signal: o.signal, ...epoch });
    const blob = rewritten === undefined ? made : { ...made, descriptor: { ...made.descriptor, annotations: { ...made.descriptor.annotations, [REWRITTEN_TIMESTAMP]: rewritten } } };
    if (blob.diffId !== diffIds[i]) throw new ExportError(`Cannot export image ${part.manifestDigest}: layer ${i + 1} is ${blob.diffId}, its config says ${diffIds[i] ?? 'nothing'}`);
    layers.push(blob);
  }
  // A manifest of Docker media types (oci-mediatypes=false) lists its new blobs by their Docker types.
  const docker = manifest.value.mediaType === MEDIA_TYPES.dockerManifest;
  const out: ImageManifest = { ...manifest.value, layers: layers.map((l) => (docker ? dockerLayer(l.descriptor) : l.descriptor)) };
  const bytes = Buffer.from(canonicalJson(out));
  const info = await store.content.writeBlob(bytes, { digest: digestOf(bytes), size: bytes.length }, o);
  const descriptor: Descriptor = { mediaType: out.mediaType ?? MEDIA_TYPES.ociManifest, digest: info.digest, size: info.size, platform };
  return { manifest: out, manifestBytes: bytes, manifestDescriptor: descriptor, config: config.value, configBytes: config.bytes, layers };
}

/** layerSources lists where a stored image's layers are: its snapshots, or the blobs of imported layers not unpacked. */
async function layerSources(store: Store, part: PlatformImageRecord, diffIds: readonly Digest[]): Promise<ExportLayer[]> {
  if (part.snapshotId !== null) return snapshotLayers(store, part.snapshotId);
  const out: ExportLayer[] = [];
  for (const [i, raw] of (part.blobs ?? []).entries()) {
    const digest = parseDigest(raw);
    const info = await store.content.info(digest);
    if (info === undefined) throw new ExportError(`Cannot export layer ${digest}: its blob is not in the store`);
    out.push({ kind: 'blob', descriptor: { mediaType: await sniffLayerType(store.content.blobPath(digest)), digest, size: info.size }, diffId: diffIds[i] ?? digest });
  }
  return out;
}

/** sniffLayerType tells a layer blob's compression by its first bytes (gzip, zstd, else a plain tar). */
export async function sniffLayerType(path: string): Promise<string> {
  const fh = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(4), 0, 4, 0);
    const head = buffer.subarray(0, bytesRead);
    if (head[0] === 0x1f && head[1] === 0x8b) return MEDIA_TYPES.ociLayerGzip;
    if (head.equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) return MEDIA_TYPES.ociLayerZstd;
    return MEDIA_TYPES.ociLayer;
  } finally {
    await fh.close();
  }
}
