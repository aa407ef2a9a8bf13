import { mapLimit } from '../base/async.js';
import type { Digest } from '../base/digest.js';
import { RegistryError } from '../base/errors.js';
import { formatPlatform, hostPlatform, type Platform } from '../base/oci.js';
import { normalizePlatform } from '../base/platform.js';
import type { FetchedManifest, RegistryClient, Reference } from '../registry/index.js';
import { formatReference } from '../registry/index.js';
import { digestField, IMAGE_MEDIA_TYPES, INDEX_MEDIA_TYPES, isRecord, openImagetoolsRegistry, parseImageName, pinned } from './imagetools-registry.js';

/** InspectImageRequest is one `tbuild imagetools inspect`. */
export interface InspectImageRequest {
  /** The image as the user wrote it (`busybox`, `host:5000/app:1.0`, `app@sha256:…`). */
  readonly name: string;
  /** Settings file with registry mirrors, CAs and plain-HTTP hosts (none when undefined). */
  readonly registryConfigPath?: string;
  /** Folder of the caller's Docker config.json, whose credentials the registries get (none when undefined). */
  readonly dockerConfigDir?: string;
  /** Also read each platform's image config (for `{{json .Image}}`). */
  readonly withImages?: boolean;
}

/** InspectedManifest is one entry of an inspected index, as the human-readable output lists it. */
export interface InspectedManifest {
  /** The inspected reference pinned to this entry: `name[:tag]@digest`. */
  readonly name: string;
  readonly mediaType: string;
  readonly digest: string;
  readonly platform: Platform | undefined;
  readonly urls: readonly string[];
  readonly annotations: Readonly<Record<string, string>>;
}

/** ImageInspection is what a registry holds under a reference. */
export interface ImageInspection {
  /** The reference as given. */
  readonly name: string;
  /** The reference normalized as buildx prints it (`docker.io/library/busybox:latest`). */
  readonly ref: string;
  readonly mediaType: string;
  readonly digest: Digest;
  readonly size: number;
  /** The manifest or index exactly as the registry served it. */
  readonly raw: Uint8Array;
  /** The parsed index, when the reference names one: its entries as served, and as listed. */
  readonly index?: {
    readonly mediaType?: string;
    readonly manifests: readonly unknown[];
    readonly annotations?: unknown;
    readonly entries: readonly InspectedManifest[];
  };
  /** Image configs (parsed JSON) by platform (`linux/arm/v7`), in platform order: only with `withImages`. */
  readonly images?: ReadonlyMap<string, unknown>;
}

/** Annotations by which an index entry says it is the attestation manifest of another entry. */
const REFERENCE_ANNOTATIONS = ['com.docker.reference.digest', 'vnd.docker.reference.digest'];
const CONFIG_FETCHES = 4;
const MAX_NESTING = 4;

/** inspectImage reads the manifest or index a reference names, and with `withImages` the image config of each platform. */
export async function inspectImage(request: InspectImageRequest, options: { signal: AbortSignal }): Promise<ImageInspection> {
  const ref = parseImageName(request.name);
  await using registry = await openImagetoolsRegistry(request);
  const fetched = await registry.client.fetchManifest(ref, options);
  const base = {
    name: request.name,
    ref: formatReference(ref),
    mediaType: fetched.mediaType,
    digest: fetched.digest,
    size: fetched.bytes.length,
    raw: fetched.bytes,
  };
  const index = INDEX_MEDIA_TYPES.has(fetched.mediaType) ? indexOf(ref, fetched) : undefined;
  const images = request.withImages === true ? await loadImages(registry.client, ref, fetched, { ...options, depth: 0 }) : undefined;
  return { ...base, ...(index === undefined ? {} : { index }), ...(images === undefined ? {} : { images: sortedByKey(images) }) };
}

/** parseDocument parses a manifest or index the registry served (its digest checked already). */
export function parseDocument(ref: Reference, bytes: Uint8Array): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new RegistryError(`Cannot read "${formatReference(ref)}": the manifest is not valid JSON`, { ref: formatReference(ref), cause: err });
  }
  if (!isRecord(doc)) throw new RegistryError(`Cannot read "${formatReference(ref)}": the manifest is not a JSON object`, { ref: formatReference(ref) });
  return doc;
}

function indexOf(ref: Reference, fetched: FetchedManifest): NonNullable<ImageInspection['index']> {
  const doc = parseDocument(ref, fetched.bytes);
  const manifests: unknown[] = Array.isArray(doc['manifests']) ? doc['manifests'] : [];
  const entries = manifests.map((m) => entryOf(ref, isRecord(m) ? m : {}));
  return {
    ...(typeof doc['mediaType'] === 'string' ? { mediaType: doc['mediaType'] } : {}),
    manifests,
    ...(doc['annotations'] === undefined ? {} : { annotations: doc['annotations'] }),
    entries,
  };
}

function entryOf(ref: Reference, d: Record<string, unknown>): InspectedManifest {
  const digest = digestField(d['digest']);
  const annotations = isRecord(d['annotations']) ? d['annotations'] : {};
  return {
    name: digest === undefined ? formatReference(ref) : formatReference({ ...ref, digest }),
    mediaType: typeof d['mediaType'] === 'string' ? d['mediaType'] : '',
    digest: typeof d['digest'] === 'string' ? d['digest'] : '',
    platform: platformOf(d['platform']),
    urls: Array.isArray(d['urls']) ? d['urls'].filter((u): u is string => typeof u === 'string') : [],
    annotations: Object.fromEntries(Object.entries(annotations).filter((e): e is [string, string] => typeof e[1] === 'string')),
  };
}

function platformOf(value: unknown): Platform | undefined {
  if (!isRecord(value)) return undefined;
  const text = (k: string): string => (typeof value[k] === 'string' ? value[k] : '');
  const features = Array.isArray(value['os.features']) ? value['os.features'].filter((f): f is string => typeof f === 'string') : [];
  return {
    os: text('os'),
    architecture: text('architecture'),
    ...(text('variant') === '' ? {} : { variant: text('variant') }),
    ...(text('os.version') === '' ? {} : { 'os.version': text('os.version') }),
    ...(features.length === 0 ? {} : { 'os.features': features }),
  };
}

/**
 * loadImages reads the image config of every image manifest below a document, keyed by its normalized platform (the
 * descriptor's, else the config's), as buildx's loader does; attestation manifests are not images.
 */
async function loadImages(
  client: RegistryClient,
  ref: Reference,
  fetched: FetchedManifest,
  o: { signal: AbortSignal; depth: number },
): Promise<Map<string, unknown>> {
  const out = new Map<string, unknown>();
  if (IMAGE_MEDIA_TYPES.has(fetched.mediaType)) {
    await addImage(client, pinned(ref, fetched.digest), undefined, out, o);
    return out;
  }
  if (!INDEX_MEDIA_TYPES.has(fetched.mediaType) || o.depth >= MAX_NESTING) return out;
  const children = indexOf(ref, fetched).manifests.filter(isRecord);
  await mapLimit(children, CONFIG_FETCHES, async (child) => {
    const digest = digestField(child['digest']);
    const annotations = isRecord(child['annotations']) ? child['annotations'] : {};
    if (digest === undefined || REFERENCE_ANNOTATIONS.some((k) => typeof annotations[k] === 'string')) return;
    const mediaType = typeof child['mediaType'] === 'string' ? child['mediaType'] : '';
    if (IMAGE_MEDIA_TYPES.has(mediaType)) {
      await addImage(client, pinned(ref, digest), platformOf(child['platform']), out, o);
    } else if (INDEX_MEDIA_TYPES.has(mediaType)) {
      const nested = await client.fetchManifest(pinned(ref, digest), o);
      for (const [k, v] of await loadImages(client, ref, nested, { ...o, depth: o.depth + 1 })) out.set(k, v);
    }
  });
  return out;
}

async function addImage(client: RegistryClient, ref: Reference, platform: Platform | undefined, out: Map<string, unknown>, o: { signal: AbortSignal }): Promise<void> {
  const image = await client.resolveImage(ref, { platform: hostPlatform(), signal: o.signal });
  const config = image.config;
  const p = platform ?? { os: config.os, architecture: config.architecture, ...(config.variant === undefined ? {} : { variant: config.variant }) };
  out.set(formatPlatform(normalizePlatform(p)), config);
}

function sortedByKey<V>(map: ReadonlyMap<string, V>): ReadonlyMap<string, V> {
  return new Map([...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
