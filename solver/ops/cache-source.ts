import { isRecord } from '../../base/is-record.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createReadStream } from 'node:fs';
import { digestHex, digestOf, isDigest, type Digest } from '../../base/digest.js';
import { ContentError, errnoCode } from '../../base/errors.js';
import { formatPlatform, MEDIA_TYPES, type Descriptor, type Platform } from '../../base/oci.js';
import { normalizePlatform } from '../../base/platform.js';
import { CACHE_CONFIG_MEDIA_TYPE, checkCacheConfig, INLINE_CACHE_FIELD, type CacheConfig } from '../../cache/index.js';
import type { RegistryClient } from '../../registry/index.js';
import { parseReference } from '../../registry/index.js';

/** CacheBlobSource opens the blobs of an imported cache (the caller verifies digests while storing). */
export interface CacheBlobSource {
  /** name says where the cache comes from, for messages. */
  readonly name: string;
  open(descriptor: Descriptor, options: { signal: AbortSignal }): Promise<NodeJS.ReadableStream>;
}

/** LoadedCache is an imported cache config and where its blobs are. */
export interface LoadedCache {
  readonly source: CacheBlobSource;
  readonly config: CacheConfig;
}

const MAX_DOCUMENT_SIZE = 16 * 1024 * 1024;
const IMAGE_MANIFEST_TYPES: ReadonlySet<string> = new Set([MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest]);

/** CacheDocumentSource is a cache source that also reads its top document, or a manifest it lists by digest. */
export type CacheDocumentSource = CacheBlobSource & { document(signal: AbortSignal, digest?: Digest): Promise<Uint8Array> };

/** registryCacheSource reads a cache (or an image with an inline cache) from a registry reference. */
export function registryCacheSource(refText: string, registry: () => Promise<RegistryClient>): CacheDocumentSource {
  const ref = parseReference(refText);
  return {
    name: refText,
    open: async (descriptor, { signal }) => (await registry()).fetchBlob(ref, descriptor, { signal }),
    document: async (signal, digest) => (await (await registry()).fetchManifest(digest === undefined ? ref : { ...ref, digest }, { signal })).bytes,
  };
}

/** localCacheSource reads a cache from an OCI layout folder written by `--cache-to type=local`. */
export function localCacheSource(dir: string): CacheDocumentSource {
  const open = (descriptor: Descriptor): Promise<NodeJS.ReadableStream> =>
    Promise.resolve(createReadStream(join(dir, 'blobs', 'sha256', digestHex(descriptor.digest))));
  return {
    name: dir,
    open,
    document: async (signal, digest) => {
      if (digest !== undefined) return readSmallBlob(await open({ mediaType: '', digest, size: 0 }), { mediaType: '', digest, size: 0 }, dir);
      const index = parseJson(await readFile(join(dir, 'index.json'), { signal }), 'index.json');
      const first = Array.isArray(index['manifests']) ? asDescriptor(index['manifests'][0]) : undefined;
      if (first === undefined) throw invalid(dir, 'index.json lists no manifest');
      return readSmallBlob(await open(first), first, dir);
    },
  };
}

/** loadCache reads and validates the cache config of a source; a missing cache yields undefined. */
export async function loadCache(
  source: CacheDocumentSource,
  options: { signal: AbortSignal; /** The platform built: an index of several platforms' images gives that image's inline cache. */ platform?: Platform },
): Promise<LoadedCache | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await source.document(options.signal);
  } catch (err) {
    // A cache that was never exported is the normal first build.
    if (isNotFound(err)) return undefined;
    throw err;
  }
  let doc = parseJson(bytes, 'the cache manifest');
  const image = imageOfIndex(doc, options.platform);
  // An image index (an image pushed with attestations) carries its inline cache in the image's own config.
  if (image !== undefined) doc = parseJson(await source.document(options.signal, image.digest), 'the image manifest');
  const entries = Array.isArray(doc['manifests']) ? doc['manifests'] : undefined;
  const manifestConfig = asDescriptor(doc['config']);
  let configDescriptor: Descriptor | undefined;
  if (entries !== undefined) configDescriptor = entries.map(asDescriptor).find((d) => d?.mediaType === CACHE_CONFIG_MEDIA_TYPE);
  else if (manifestConfig !== undefined) configDescriptor = manifestConfig;
  if (configDescriptor === undefined) throw invalid(source.name, 'no cache config in the manifest');
  const configDoc = parseJson(await readSmallBlob(await source.open(configDescriptor, options), configDescriptor, source.name), 'the cache config');
  // An image config carries its cache inline; a cache artifact's config is the cache config itself.
  const value = configDescriptor.mediaType === CACHE_CONFIG_MEDIA_TYPE ? configDoc : configDoc[INLINE_CACHE_FIELD];
  if (value === undefined) return undefined;
  const checked = checkCacheConfig(value);
  if (!checked.ok) throw invalid(source.name, checked.reason);
  return { source, config: checked.config };
}

/**
 * imageOfIndex picks the image manifest of an image index that is no cache index (it lists no cache config): the
 * image of the platform built, else the first entry that is not an attestation manifest (platform unknown/unknown).
 */
function imageOfIndex(doc: Record<string, unknown>, platform: Platform | undefined): Descriptor | undefined {
  const entries: unknown[] = Array.isArray(doc['manifests']) ? doc['manifests'] : [];
  if (entries.some((e) => asDescriptor(e)?.mediaType === CACHE_CONFIG_MEDIA_TYPE)) return undefined;
  const wanted = platform === undefined ? undefined : formatPlatform(normalizePlatform(platform));
  const platformOf = (e: unknown): string | undefined => {
    if (!isRecord(e) || !isRecord(e['platform'])) return undefined;
    const { os, architecture, variant } = e['platform'];
    if (typeof os !== 'string' || typeof architecture !== 'string') return undefined;
    return formatPlatform(normalizePlatform({ os, architecture, ...(typeof variant === 'string' && variant !== '' ? { variant } : {}) }));
  };
  const image =
    entries.find((e) => wanted !== undefined && platformOf(e) === wanted) ??
    entries.find((e) => isRecord(e) && !(isRecord(e['platform']) && e['platform']['os'] === 'unknown'));
  const d = asDescriptor(image);
  return d !== undefined && IMAGE_MANIFEST_TYPES.has(d.mediaType) ? d : undefined;
}

async function readSmallBlob(stream: NodeJS.ReadableStream, descriptor: Descriptor, name: string): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buf.length;
    if (size > MAX_DOCUMENT_SIZE) throw invalid(name, `blob ${descriptor.digest} is larger than ${MAX_DOCUMENT_SIZE} bytes`);
    chunks.push(buf);
  }
  const bytes = Buffer.concat(chunks);
  const digest = digestOf(bytes);
  if (digest !== descriptor.digest) {
    throw new ContentError(`Cannot use cache "${name}": blob ${descriptor.digest} has digest ${digest}`, { code: 'DIGEST_MISMATCH' });
  }
  return bytes;
}

function asDescriptor(value: unknown): Descriptor | undefined {
  if (!isRecord(value)) return undefined;
  const { mediaType, digest, size } = value;
  if (typeof mediaType !== 'string' || typeof digest !== 'string' || !isDigest(digest) || typeof size !== 'number') return undefined;
  return { mediaType, digest, size };
}

function parseJson(bytes: Uint8Array, what: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new ContentError(`Cannot read ${what}: not valid JSON`, { code: 'CONTENT_NOT_FOUND', cause: err });
  }
  if (!isRecord(doc)) throw new ContentError(`Cannot read ${what}: not a JSON object`, { code: 'CONTENT_NOT_FOUND' });
  return doc;
}

function invalid(name: string, detail: string): ContentError {
  return new ContentError(`Cannot use cache "${name}": ${detail}`, { code: 'CONTENT_NOT_FOUND' });
}

function isNotFound(err: unknown): boolean {
  if (errnoCode(err) === 'ENOENT') return true;
  return typeof err === 'object' && err !== null && 'code' in err && err.code === 'REGISTRY_NOT_FOUND';
}
