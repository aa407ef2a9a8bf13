import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';
import { canonicalJson } from '../base/canonical-json.js';
import { digestOf, isDigest, parseDigest, type Digest } from '../base/digest.js';
import { ContentError, TbuildError, UsageError } from '../base/errors.js';
import { MEDIA_TYPES, type Descriptor, type ImageConfig, type ImageIndex, type ImageManifest } from '../base/oci.js';
import type { PlatformImageRecord } from '../cache/index.js';
import { formatReference, parseReference } from '../registry/index.js';
import { imageIdOf, nameImage, type StoredImage } from './image-naming.js';
import { listedAttestations } from './stored-attestations.js';
import { readJsonBlob, sniffLayerType } from './stored-image.js';
import type { Store } from './store.js';

/** LoadedImage is one image `tbuild load` put in the store: its ID and the names it got. */
export interface LoadedImage {
  readonly id: string;
  readonly names: readonly string[];
}

/** Files up to this size are kept in memory while the archive is read: the JSON documents that say what is in it. */
const SMALL_FILE = 1 << 20;

/** ArchiveEntry is a file of the archive: in memory (small) or already in the content store. */
type ArchiveEntry = { readonly bytes: Buffer } | { readonly digest: Digest; readonly size: number };

/**
 * loadImages reads a `docker save` archive (manifest.json, also the legacy layout of folders with layer.tar) or an OCI
 * image archive (index.json), plain or gzip-compressed, into the local image store, as `docker load` does. index.json wins when an archive has
 * both (Docker 25 and tbuild write both): it names images of several platforms by their index.
 */
export async function loadImages(store: Store, input: NodeJS.ReadableStream, o: { signal: AbortSignal }): Promise<LoadedImage[]> {
  const files = await readArchive(store, input, o);
  const json = <T>(path: string): T | undefined => {
    const entry = files.get(path);
    return entry === undefined || !('bytes' in entry) ? undefined : (JSON.parse(entry.bytes.toString('utf8')) as T);
  };
  // Any blob the archive holds goes to the content store under its digest; JSON documents were kept in memory.
  const blob = async (path: string): Promise<{ digest: Digest; size: number }> => {
    const entry = files.get(path);
    if (entry === undefined) throw new ContentError(`Cannot load the archive: it lacks "${path}"`, { code: 'CONTENT_NOT_FOUND' });
    if ('digest' in entry) return entry;
    return store.content.writeBlob(entry.bytes, { digest: digestOf(entry.bytes), size: entry.bytes.length }, o);
  };
  const index = json<ImageIndex>('index.json');
  const manifest = json<DockerManifestJson>('manifest.json');
  if (index !== undefined) return loadOciLayout(store, index, blob, o);
  if (manifest !== undefined) return loadDockerArchive(store, manifest, { blob, json }, o);
  throw new UsageError('Cannot load the archive: it has neither index.json (an OCI layout) nor manifest.json (docker save)');
}

type DockerManifestJson = readonly { readonly Config: string; readonly RepoTags?: readonly string[] | null; readonly Layers: readonly string[] }[];
type BlobOf = (path: string) => Promise<{ digest: Digest; size: number }>;

async function readArchive(store: Store, input: NodeJS.ReadableStream, o: { signal: AbortSignal }): Promise<Map<string, ArchiveEntry>> {
  const files = new Map<string, ArchiveEntry>();
  const links = new Map<string, string>();
  const ex = extract();
  const reading = (async () => {
    for await (const entry of ex) {
      o.signal.throwIfAborted();
      const name = posix.normalize(entry.header.name).replace(/^(\.\/)+|\/$/g, '');
      if (entry.header.type === 'symlink' || entry.header.type === 'link') {
        const target = entry.header.linkname ?? '';
        links.set(name, entry.header.type === 'symlink' ? posix.join(posix.dirname(name), target) : posix.normalize(target));
      }
      if (entry.header.type !== 'file' && entry.header.type !== 'contiguous-file') {
        entry.resume();
        continue;
      }
      if ((entry.header.size ?? 0) <= SMALL_FILE) {
        const chunks: Buffer[] = [];
        for await (const chunk of entry) chunks.push(Buffer.from(chunk as Uint8Array));
        files.set(name, { bytes: Buffer.concat(chunks) });
      } else {
        async function* bytes(): AsyncGenerator<Buffer> {
          for await (const chunk of entry) yield Buffer.from(chunk as Uint8Array);
        }
        files.set(name, await store.content.writeBlob(Readable.from(bytes()), {}, o));
      }
    }
  })();
  try {
    await Promise.all([pipeline(Readable.from(gunzipped(input)), ex, { signal: o.signal }), reading]);
  } catch (err) {
    if (o.signal.aborted || err instanceof TbuildError) throw err;
    // tar-stream's own errors (a truncated or non-tar input) are the input's fault.
    throw new UsageError(`Cannot load the archive: ${err instanceof Error ? err.message : String(err)}`, { cause: err, hint: 'give a docker save archive or an OCI image archive' });
  }
  // The legacy layout links a layer saved twice to its first copy.
  for (const [name, target] of links) {
    const entry = files.get(target);
    if (entry !== undefined) files.set(name, entry);
  }
  return files;
}

/** gunzipped passes an archive through, decompressed when it is gzip-compressed (docker load takes both). */
async function* gunzipped(input: NodeJS.ReadableStream): AsyncGenerator<Buffer> {
  const chunks = input[Symbol.asyncIterator]();
  const first = await chunks.next();
  if (first.done === true) return;
  const head = Buffer.from(first.value);
  const rest = (async function* (): AsyncGenerator<Buffer> {
    yield head;
    for (let r = await chunks.next(); r.done !== true; r = await chunks.next()) yield Buffer.from(r.value);
  })();
  if (head[0] !== 0x1f || head[1] !== 0x8b) {
    yield* rest;
    return;
  }
  const gunzip = createGunzip();
  // The pipeline carries an error of the input into the decompressor, which the loop below then throws.
  const piped = pipeline(Readable.from(rest), gunzip);
  try {
    for await (const chunk of gunzip) yield Buffer.from(chunk as Uint8Array);
  } finally {
    await piped;
  }
}

async function loadDockerArchive(
  store: Store,
  entries: DockerManifestJson,
  archive: { blob: BlobOf; json: <T>(path: string) => T | undefined },
  o: { signal: AbortSignal },
): Promise<LoadedImage[]> {
  const out: LoadedImage[] = [];
  for (const entry of entries) {
    const config = await archive.blob(entry.Config);
    const { value: image } = await readJsonBlob<ImageConfig>(store, config.digest);
    const layers: Descriptor[] = [];
    for (const path of entry.Layers) {
      const layer = await archive.blob(path);
      layers.push({ mediaType: await sniffLayerType(store.content.blobPath(layer.digest)), ...layer });
    }
    if (layers.length !== image.rootfs.diff_ids.length) {
      throw new ContentError(`Cannot load image ${config.digest}: its config lists ${image.rootfs.diff_ids.length} layers, the archive ${layers.length}`, { code: 'DIGEST_MISMATCH' });
    }
    const manifest: ImageManifest = { schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config: { mediaType: MEDIA_TYPES.ociConfig, ...config }, layers };
    const bytes = Buffer.from(canonicalJson(manifest));
    const written = await store.content.writeBlob(bytes, { digest: digestOf(bytes), size: bytes.length }, o);
    const part = { manifestDigest: written.digest, configDigest: config.digest, snapshotId: null, blobs: layers.map((l) => l.digest) };
    const names = (entry.RepoTags ?? []).map(fullName);
    out.push(await keep(store, { ...part, manifestMediaType: MEDIA_TYPES.ociManifest, manifestSize: written.size, createdAt: Date.now() }, names));
  }
  return out;
}

async function loadOciLayout(store: Store, root: ImageIndex, blob: BlobOf, o: { signal: AbortSignal }): Promise<LoadedImage[]> {
  const byDigest = new Map<string, { descriptor: Descriptor; names: string[] }>();
  for (const d of root.manifests) {
    const known = byDigest.get(d.digest) ?? { descriptor: d, names: [] };
    const name = nameOfDescriptor(d);
    if (name !== undefined && !known.names.includes(name)) known.names.push(name);
    byDigest.set(d.digest, known);
  }
  const out: LoadedImage[] = [];
  for (const { descriptor, names } of byDigest.values()) {
    const top = await blob(blobPath(descriptor.digest));
    const base = { manifestDigest: top.digest, manifestMediaType: descriptor.mediaType, manifestSize: top.size, createdAt: Date.now() };
    if (descriptor.mediaType !== MEDIA_TYPES.ociIndex && descriptor.mediaType !== MEDIA_TYPES.dockerManifestList) {
      out.push(await keep(store, { ...base, ...(await ociImagePart(store, top.digest, blob)) }, names));
      continue;
    }
    const { value: index } = await readJsonBlob<ImageIndex>(store, top.digest);
    const parts: PlatformImageRecord[] = [];
    // Attestation manifests (platform unknown/unknown) are not images: the store keeps the platforms' images.
    for (const m of index.manifests.filter((d) => d.platform !== undefined && d.platform.os !== 'unknown')) {
      await blob(blobPath(m.digest));
      parts.push(await ociImagePart(store, m.digest, blob));
    }
    const [first] = parts;
    if (first === undefined) throw new UsageError(`Cannot load index ${top.digest}: it lists no image of a platform`);
    const { manifestDigest: _first, ...held } = first;
    const attestationBlobs = await loadAttestations(store, index, blob);
    out.push(await keep(store, { ...base, ...held, platforms: parts, ...(attestationBlobs.length === 0 ? {} : { attestationBlobs }) }, names));
  }
  return out;
}

/** loadAttestations stores the attestation manifests an index lists, with their blobs, and returns those blobs' digests. */
async function loadAttestations(store: Store, index: ImageIndex, blob: BlobOf): Promise<string[]> {
  const digests: string[] = [];
  for (const { descriptor } of await listedAttestations(index)) {
    await blob(blobPath(descriptor.digest));
    const { value: manifest } = await readJsonBlob<ImageManifest>(store, descriptor.digest);
    for (const d of [manifest.config, ...manifest.layers]) await blob(blobPath(d.digest));
    digests.push(descriptor.digest, manifest.config.digest, ...manifest.layers.map((l) => l.digest));
  }
  return digests;
}

async function ociImagePart(store: Store, digest: Digest, blob: BlobOf): Promise<PlatformImageRecord> {
  await blob(blobPath(digest));
  const { value: manifest } = await readJsonBlob<ImageManifest>(store, digest);
  await blob(blobPath(manifest.config.digest));
  for (const layer of manifest.layers) await blob(blobPath(layer.digest));
  return { manifestDigest: digest, configDigest: manifest.config.digest, snapshotId: null, blobs: manifest.layers.map((l) => l.digest) };
}

async function keep(store: Store, image: StoredImage, names: readonly string[]): Promise<LoadedImage> {
  await nameImage(store, image, names);
  return { id: imageIdOf(image), names };
}

function blobPath(digest: string): string {
  const d = parseDigest(digest);
  return `blobs/sha256/${d.slice('sha256:'.length)}`;
}

/** nameOfDescriptor is the name an OCI layout gives a manifest: containerd's full name, else a full reference name. */
function nameOfDescriptor(d: Descriptor): string | undefined {
  const full = d.annotations?.['io.containerd.image.name'];
  if (full !== undefined && full !== '') return fullName(full);
  const ref = d.annotations?.['org.opencontainers.image.ref.name'];
  // A bare tag (`latest`) names no repository: the image stays without a name.
  return ref !== undefined && /[/:]/.test(ref) && !isDigest(ref) ? fullName(ref) : undefined;
}

function fullName(name: string): string {
  return formatReference(parseReference(name));
}
