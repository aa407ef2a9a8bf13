import { isRecord } from '../base/is-record.js';
import { isDigest, type Digest } from '../base/digest.js';
import type { Descriptor } from '../base/oci.js';

/** CACHE_CONFIG_MEDIA_TYPE is the media type of the blob that lists exported cache records. */
export const CACHE_CONFIG_MEDIA_TYPE = 'application/vnd.tbuild.cache.config.v1+json';
/** CACHE_ARTIFACT_TYPE is the artifactType of an exported cache index or manifest. */
export const CACHE_ARTIFACT_TYPE = 'application/vnd.tbuild.cache.v1';
/** INLINE_CACHE_FIELD is the image config field that holds an inline cache config. */
export const INLINE_CACHE_FIELD = 'tbuild.cache.v1';

/** CacheLayer is one layer blob of an exported cache and the digest of its uncompressed tar. */
export interface CacheLayer {
  readonly mediaType: string;
  readonly digest: Digest;
  readonly size: number;
  readonly diffId: Digest;
  /** When the layer was made (RFC 3339), so an image built from the cache elsewhere dates its history the same. */
  readonly createdAt?: string;
}

/** CacheConfigRecord is one cache key and the layer chain of its result (indexes into `layers`). */
export interface CacheConfigRecord {
  readonly key: Digest;
  /** The vertex's own snapshot, or null for an empty (scratch) result. */
  readonly layer: number | null;
  /** The layers below it, from the bottom up. */
  readonly parent: readonly number[];
}

/** CacheConfig is the document a cache config blob holds. */
export interface CacheConfig {
  readonly schemaVersion: 1;
  readonly layers: readonly CacheLayer[];
  readonly records: readonly CacheConfigRecord[];
}

/** CacheConfigCheck is the outcome of validating a parsed cache config. */
export type CacheConfigCheck = { readonly ok: true; readonly config: CacheConfig } | { readonly ok: false; readonly reason: string };

/** recordChain lists a record's layers from the bottom up, its own layer last. */
export function recordChain(config: CacheConfig, record: CacheConfigRecord): readonly CacheLayer[] {
  const indexes = record.layer === null ? record.parent : [...record.parent, record.layer];
  return indexes.map((i) => {
    const layer = config.layers[i];
    // checkCacheConfig has verified every index.
    if (layer === undefined) throw new RangeError(`cache layer index ${i} out of range`);
    return layer;
  });
}

/** layerDescriptor is the OCI descriptor of a cache layer. */
export function layerDescriptor(layer: CacheLayer): Descriptor {
  return { mediaType: layer.mediaType, digest: layer.digest, size: layer.size };
}

/** checkCacheConfig validates a parsed JSON value as a cache config, naming the first problem it finds. */
export function checkCacheConfig(value: unknown): CacheConfigCheck {
  if (!isRecord(value)) return { ok: false, reason: 'not a JSON object' };
  if (value['schemaVersion'] !== 1) return { ok: false, reason: `unsupported schemaVersion ${String(value['schemaVersion'])}` };
  const layersIn = value['layers'];
  const recordsIn = value['records'];
  if (!Array.isArray(layersIn) || !Array.isArray(recordsIn)) return { ok: false, reason: 'layers or records is not a list' };
  const layers: CacheLayer[] = [];
  for (const l of layersIn) {
    if (!isRecord(l)) return { ok: false, reason: 'a layer is not an object' };
    const { mediaType, digest, size, diffId, createdAt } = l;
    if (typeof mediaType !== 'string' || typeof digest !== 'string' || !isDigest(digest) || typeof diffId !== 'string' || !isDigest(diffId)) {
      return { ok: false, reason: 'a layer has no valid mediaType, digest or diffId' };
    }
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) return { ok: false, reason: `layer ${digest} has no valid size` };
    if (createdAt !== undefined && (typeof createdAt !== 'string' || Number.isNaN(Date.parse(createdAt)))) {
      return { ok: false, reason: `layer ${digest} has no valid createdAt` };
    }
    layers.push({ mediaType, digest, size, diffId, ...(createdAt === undefined ? {} : { createdAt }) });
  }
  const validIndex = (i: unknown): i is number => typeof i === 'number' && Number.isInteger(i) && i >= 0 && i < layers.length;
  const records: CacheConfigRecord[] = [];
  for (const r of recordsIn) {
    if (!isRecord(r)) return { ok: false, reason: 'a record is not an object' };
    const { key, layer, parent } = r;
    if (typeof key !== 'string' || !isDigest(key)) return { ok: false, reason: 'a record has no valid key' };
    if (!(layer === null || validIndex(layer)) || !Array.isArray(parent) || !parent.every(validIndex)) {
      return { ok: false, reason: `record ${key} has invalid layer indexes` };
    }
    records.push({ key, layer, parent: parent.filter(validIndex) });
  }
  return { ok: true, config: { schemaVersion: 1, layers, records } };
}

