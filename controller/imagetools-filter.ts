import { digestOf, type Digest } from '../base/digest.js';
import { UsageError } from '../base/errors.js';
import { encodeGoJson } from '../base/go-json.js';
import { goIndex } from '../base/go-oci.js';
import { formatPlatform, type Platform } from '../base/oci.js';
import { samePlatform } from '../base/platform.js';
import { ATTESTATION_REFERENCE_TYPE, REFERENCE_DIGEST_ANNOTATION, REFERENCE_TYPE_ANNOTATION } from '../exporter/lazy.js';
import type { CombinedIndex } from './imagetools-combine.js';
import { INDEX_MEDIA_TYPES } from './imagetools-registry.js';
import type { IndexEntry } from './imagetools-sources.js';

/**
 * filterPlatforms keeps what `imagetools create --platform` asks for, as buildx does: of an index, the entries of
 * those platforms, the entries without a platform and the attestation manifests of the images kept; an index that
 * keeps every entry stays as it was, byte for byte. A single image is kept only when its platform is one asked for.
 */
export function filterPlatforms(combined: CombinedIndex, platforms: readonly Platform[]): CombinedIndex {
  if (platforms.length === 0) return combined;
  const wanted = platforms.map(formatPlatform).join(', ');
  const matches = (p: Platform | undefined): boolean => p === undefined || platforms.some((w) => samePlatform(w, p));
  if (!INDEX_MEDIA_TYPES.has(combined.mediaType)) {
    const platform = combined.entries[0]?.entry.platform;
    if (platform === undefined) throw new UsageError('Cannot filter platforms: the image has no platform');
    if (!matches(platform)) throw new UsageError(`Cannot create the image: its platform ${formatPlatform(platform)} is not one of --platform ${wanted}`);
    return combined;
  }
  const doc = JSON.parse(Buffer.from(combined.bytes).toString('utf8')) as { mediaType?: string; manifests: IndexEntry[]; annotations?: Record<string, string> };
  const byDigest = new Map(doc.manifests.map((m) => [m.digest, m]));
  const attests = (m: IndexEntry): boolean => {
    if (m.annotations?.[REFERENCE_TYPE_ANNOTATION] !== ATTESTATION_REFERENCE_TYPE) return false;
    const subject = byDigest.get((m.annotations[REFERENCE_DIGEST_ANNOTATION] ?? '') as Digest);
    return subject !== undefined && matches(subject.platform);
  };
  const kept = doc.manifests.filter((m) => attests(m) || matches(m.platform));
  if (kept.length === 0) throw new UsageError(`Cannot create the index: none of its images is for --platform ${wanted}`);
  if (kept.length === doc.manifests.length) return combined;
  const bytes = Buffer.from(encodeGoJson(goIndex({ ...doc, manifests: kept }), '  '), 'utf8');
  const keptDigests = new Set(kept.map((m) => m.digest));
  return { bytes, mediaType: combined.mediaType, digest: digestOf(bytes), entries: combined.entries.filter((e) => keptDigests.has(e.entry.digest)) };
}
