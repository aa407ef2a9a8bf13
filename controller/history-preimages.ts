import type { KeyPreimages } from '../base/build-record.js';
import type { MetadataStore } from '../cache/index.js';

/** MAX_KEYS bounds the preimages one record keeps (a graph of thousands of steps keeps its first keys only). */
const MAX_KEYS = 5000;

/**
 * collectPreimages copies the preimages of the keys a build's steps were looked up under, and of every key below them,
 * from the key store into the record: the key store drops a preimage with its cache record, the history keeps it.
 */
export function collectPreimages(meta: MetadataStore, keys: readonly string[]): KeyPreimages {
  const out: Record<string, unknown> = {};
  const queue = [...keys];
  let count = 0;
  for (let key = queue.pop(); key !== undefined && count < MAX_KEYS; key = queue.pop()) {
    if (Object.hasOwn(out, key)) continue;
    const preimage = meta.keyPreimages.get(key)?.preimage;
    if (preimage === undefined) continue;
    out[key] = preimage;
    count++;
    queue.push(...inputKeys(preimage));
  }
  return out;
}

/** inputKeys lists the keys a preimage hashes: its inputs' keys, or the key a rerun key derives from. */
export function inputKeys(preimage: unknown): string[] {
  if (typeof preimage !== 'object' || preimage === null) return [];
  if ('inputs' in preimage && Array.isArray(preimage.inputs)) {
    return preimage.inputs.flatMap((i: unknown) => (typeof i === 'object' && i !== null && 'key' in i && typeof i.key === 'string' ? [i.key] : []));
  }
  return 'key' in preimage && typeof preimage.key === 'string' ? [preimage.key] : [];
}
