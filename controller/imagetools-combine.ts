import { digestOf, type Digest } from '../base/digest.js';
import { UsageError } from '../base/errors.js';
import { encodeGoJson } from '../base/go-json.js';
import { goIndex } from '../base/go-oci.js';
import { formatPlatform, MEDIA_TYPES } from '../base/oci.js';
import { normalizePlatform } from '../base/platform.js';
import { INDEX_MEDIA_TYPES } from './imagetools-registry.js';
import { type IndexAnnotation, type IndexEntry, type IndexSource } from './imagetools-sources.js';

/** FetchedSource is a source whose document was read: its descriptor (platform filled in for an image) and bytes. */
export interface FetchedSource {
  readonly source: IndexSource;
  readonly entry: IndexEntry;
  readonly bytes: Uint8Array;
  /** The entries of an index source, parsed; empty for an image. */
  readonly children: readonly IndexEntry[];
}

/**
 * CombinedIndex is the document `imagetools create` pushes, and where each of its entries comes from: an index, or,
 * with --prefer-index=false and a single image source, that image's manifest (its one entry).
 */
export interface CombinedIndex {
  readonly bytes: Uint8Array;
  readonly mediaType: string;
  readonly digest: Digest;
  readonly entries: readonly { readonly entry: IndexEntry; readonly from: FetchedSource }[];
}

/**
 * combineSources makes one index of the sources as buildx does: a single index source is copied as it is; otherwise
 * every image and every entry of every index goes in, in order, entries of the same digest merged. The index is a
 * Docker manifest list when all entries are Docker manifests, else an OCI index (the only kind that takes
 * annotations). Two different images of one platform both go in, as buildx lets them: a puller gets the first.
 * Without preferIndex, a single image source is copied as it is too, instead of becoming an index of one image.
 */
export function combineSources(sources: readonly FetchedSource[], annotations: readonly IndexAnnotation[], preferIndex: boolean): CombinedIndex {
  const only = sources.length === 1 ? sources[0] : undefined;
  if (only !== undefined && annotations.length === 0) {
    const copy = { bytes: only.bytes, mediaType: only.entry.mediaType, digest: only.entry.digest };
    if (INDEX_MEDIA_TYPES.has(only.entry.mediaType)) return { ...copy, entries: only.children.map((entry) => ({ entry, from: only })) };
    if (!preferIndex) return { ...copy, entries: [{ entry: only.entry, from: only }] };
  }
  const byDigest = new Map<Digest, { entry: IndexEntry; from: FetchedSource }>();
  for (const from of sources) {
    for (const d of INDEX_MEDIA_TYPES.has(from.entry.mediaType) ? from.children : [from.entry]) {
      const known = byDigest.get(d.digest);
      if (known === undefined) {
        byDigest.set(d.digest, { entry: { ...d }, from });
        continue;
      }
      if (known.entry.mediaType === '') known.entry.mediaType = d.mediaType;
      if (d.platform !== undefined) known.entry.platform = d.platform;
      known.entry.annotations = { ...known.entry.annotations, ...d.annotations };
      known.from = from;
    }
  }
  const entries = [...byDigest.values()];
  const docker = entries.every(({ entry }) => entry.mediaType.startsWith('application/vnd.docker.'));
  const mediaType = docker ? MEDIA_TYPES.dockerManifestList : MEDIA_TYPES.ociIndex;
  if (docker && annotations.length > 0) {
    throw new UsageError('Cannot annotate the index: every source is a Docker manifest, so the index is a Docker manifest list, which has no annotations', {
      hint: 'push the sources with OCI media types to annotate the index',
    });
  }
  const indexAnnotations: Record<string, string> = {};
  for (const a of annotations) {
    if (a.type === 'index') indexAnnotations[a.key] = a.value;
    else for (const { entry } of entries) if (a.platform === undefined || samePlatformText(a, entry)) entry.annotations = { ...entry.annotations, [a.key]: a.value };
  }
  const text = encodeGoJson(goIndex({ mediaType, manifests: entries.map((e) => e.entry), annotations: indexAnnotations }), '  ');
  const bytes = Buffer.from(text, 'utf8');
  return { bytes, mediaType, digest: digestOf(bytes), entries };
}

function samePlatformText(a: IndexAnnotation, entry: IndexEntry): boolean {
  return a.platform !== undefined && entry.platform !== undefined && formatPlatform(normalizePlatform(a.platform)) === formatPlatform(normalizePlatform(entry.platform));
}
