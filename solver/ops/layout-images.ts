import type { Readable } from 'node:stream';
import { digestOf, isDigest, type Digest } from '../../base/digest.js';
import { ContentError, RegistryError } from '../../base/errors.js';
import { decodeImageConfig, decodeImageIndex, decodeImageManifest } from '../../base/oci-decode.js';
import { formatPlatform, MEDIA_TYPES, type Descriptor, type ImageIndex, type ImageManifest, type Platform } from '../../base/oci.js';
import { parseReference, selectPlatformManifest, type ResolvedImage } from '../../registry/index.js';
import type { ImageResolver } from './image-resolver.js';

/**
 * LayoutBlobs reads the blobs of one OCI image layout of the client (`--build-context NAME=oci-layout://…`), as
 * BuildKit reads a client's OCI store through its session: a folder on this machine, or a remote client's.
 */
export interface LayoutBlobs {
  /** read returns a whole blob (an index, manifest or config), checked against its digest. */
  read(digest: Digest, options: { signal: AbortSignal }): Promise<Uint8Array>;
  /** open streams a blob (a layer); whoever stores it checks the digest. */
  open(descriptor: Descriptor, options: { signal: AbortSignal }): Promise<Readable>;
}

/** LAYOUT_SCHEME starts the graph reference of an image from a layout: `oci-layout://NAME@sha256:…`. */
export const LAYOUT_SCHEME = 'oci-layout://';

/** layoutRef is the graph reference of the image a layout named `name` holds at `digest`. */
export function layoutRef(name: string, digest: Digest): string {
  return `${LAYOUT_SCHEME}${name}@${digest}`;
}

/** parseLayoutRef reads a layout image reference: the layout's name and the digest it names; undefined for a registry reference. */
export function parseLayoutRef(ref: string): { readonly name: string; readonly digest: Digest } | undefined {
  if (!ref.startsWith(LAYOUT_SCHEME)) return undefined;
  const rest = ref.slice(LAYOUT_SCHEME.length);
  const at = rest.lastIndexOf('@');
  const digest = rest.slice(at + 1);
  if (at <= 0 || !isDigest(digest)) throw new RegistryError(`Cannot use image "${ref}": an OCI layout image is named by NAME@sha256:DIGEST`, { ref });
  return { name: rest.slice(0, at), digest };
}

/** layoutOf names the layout an image was resolved from (its `source`), or undefined for a registry's image. */
export function layoutOf(resolved: Pick<ResolvedImage, 'source'>): string | undefined {
  return resolved.source.startsWith(LAYOUT_SCHEME) ? resolved.source.slice(LAYOUT_SCHEME.length) : undefined;
}

const MAX_JSON_BLOB = 8 * 1024 * 1024;

/**
 * withLayoutImages resolves `oci-layout://NAME@DIGEST` references from the named layouts and every other reference
 * with `registry`. As BuildKit's image config lookup does, the digest may name an index (the platform's manifest is
 * picked from it) or a manifest; the image is named after the layout, `NAME@DIGEST` (BuildKit's reference for it).
 */
export function withLayoutImages(registry: ImageResolver, layouts: ReadonlyMap<string, LayoutBlobs>): ImageResolver {
  if (layouts.size === 0) return registry;
  const memo = new Map<string, Promise<ResolvedImage>>();
  return {
    resolve(ref, options) {
      const parsed = parseLayoutRef(ref);
      if (parsed === undefined) return registry.resolve(ref, options);
      const key = `${ref}|${formatPlatform(options.platform)}`;
      let p = memo.get(key);
      if (p === undefined) {
        const blobs = layouts.get(parsed.name);
        p = blobs === undefined ? Promise.reject(new RegistryError(`Cannot use image "${ref}": no OCI layout is named ${parsed.name}`, { ref })) : resolveFromLayout(parsed, blobs, options);
        memo.set(key, p);
      }
      return p;
    },
    checked: () => registry.checked(),
    moved: () => registry.moved(),
    [Symbol.asyncDispose]: () => registry[Symbol.asyncDispose](),
  };
}

async function resolveFromLayout(at: { name: string; digest: Digest }, blobs: LayoutBlobs, options: { platform: Platform; signal: AbortSignal }): Promise<ResolvedImage> {
  const where = `${LAYOUT_SCHEME}${at.name}@${at.digest}`;
  let digest = at.digest;
  let doc = await readJson(blobs, digest, where, options.signal);
  const from = { ref: where, action: 'Cannot use image' };
  if (isIndex(doc)) {
    const chosen = selectPlatformManifest(decodeImageIndex(doc, from).manifests, options.platform);
    if (chosen === undefined) {
      throw new RegistryError(`Cannot use image "${where}": its index has no manifest for platform ${formatPlatform(options.platform)}`, { code: 'REGISTRY_NOT_FOUND', ref: where });
    }
    digest = chosen.digest;
    doc = await readJson(blobs, digest, where, options.signal);
  }
  if (!isManifest(doc)) throw new RegistryError(`Cannot use image "${where}": ${digest} is neither an image index nor an image manifest`, { ref: where });
  const manifest = decodeImageManifest(doc, from);
  const config = decodeImageConfig(await readJson(blobs, manifest.config.digest, where, options.signal), from);
  return {
    ref: parseReference(`${at.name}@${at.digest}`),
    digest,
    namedDigest: at.digest,
    manifest,
    config,
    configDescriptor: manifest.config,
    source: `${LAYOUT_SCHEME}${at.name}`,
  };
}

async function readJson(blobs: LayoutBlobs, digest: Digest, where: string, signal: AbortSignal): Promise<unknown> {
  const bytes = await blobs.read(digest, { signal });
  if (bytes.length > MAX_JSON_BLOB) throw new RegistryError(`Cannot use image "${where}": blob ${digest} is too large for a manifest or config`, { ref: where });
  if (digestOf(bytes) !== digest) throw new ContentError(`Cannot use image "${where}": blob ${digest} does not match its digest`, { code: 'DIGEST_MISMATCH' });
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown;
  } catch (err) {
    throw new RegistryError(`Cannot use image "${where}": blob ${digest} is not JSON`, { ref: where, cause: err });
  }
}

/** isIndex tells an index by its media type, or by its manifests list when it has none (BuildKit's DetectManifestMediaType). */
function isIndex(doc: unknown): doc is ImageIndex {
  if (typeof doc !== 'object' || doc === null) return false;
  const mediaType = 'mediaType' in doc ? doc.mediaType : undefined;
  if (mediaType === MEDIA_TYPES.ociIndex || mediaType === MEDIA_TYPES.dockerManifestList) return Array.isArray((doc as ImageIndex).manifests);
  return mediaType === undefined && 'manifests' in doc && Array.isArray(doc.manifests) && !('config' in doc);
}

function isManifest(doc: unknown): doc is ImageManifest {
  if (typeof doc !== 'object' || doc === null || !('config' in doc) || !('layers' in doc)) return false;
  const m = doc as ImageManifest;
  return typeof m.config === 'object' && m.config !== null && isDigest(String(m.config.digest)) && Array.isArray(m.layers);
}
