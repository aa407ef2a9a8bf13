import { canonicalJson } from '../base/canonical-json.js';
import { digestOf, type Digest } from '../base/digest.js';

/** KEY_VERSION changes every cache key when the key formula or op semantics change. */
export const KEY_VERSION = 1;

/** computeOpDigest digests the cache-relevant fields of an op. */
export function computeOpDigest(kind: string, fields: unknown): Digest {
  return digestOf(canonicalJson({ v: KEY_VERSION, kind, fields }));
}

/** computeCacheKey combines an op digest with its inputs' cache keys. */
export function computeCacheKey(opDigest: Digest, inputKeys: readonly Digest[]): Digest {
  return digestOf(canonicalJson({ op: opDigest, inputs: inputKeys }));
}

/** computeContentInputKey stands for an input in a content-based key: the digest of the files read of it. */
export function computeContentInputKey(contentDigest: Digest): Digest {
  return digestOf(canonicalJson({ content: contentDigest }));
}

/**
 * computeRerunKey is the key the dependents of a vertex that ignored the cache see when its new result holds other
 * files than the record before it: derived from the files, so a later run that makes the same files matches again.
 */
export function computeRerunKey(key: Digest, contentDigest: Digest): Digest {
  return digestOf(canonicalJson({ rerun: key, content: contentDigest }));
}
