import type { KeyPreimages } from '../base/build-record.js';
import type { MetadataStore } from './metadata.js';

/** MAX_KEYS bounds the keys one walk follows (a graph of thousands of steps gives its first keys only). */
const MAX_KEYS = 5000;

type Preimages = Pick<MetadataStore, 'keyPreimages'>;

/** keyClosure walks from keys to every key below them, through the preimages the store keeps, calling `visit` once each. */
function keyClosure(meta: Preimages, keys: Iterable<string>, visit: (key: string) => void): void {
  const seen = new Set<string>();
  const queue = [...keys];
  for (let key = queue.pop(); key !== undefined && seen.size < MAX_KEYS; key = queue.pop()) {
    if (seen.has(key)) continue;
    const preimage = meta.keyPreimages.get(key)?.preimage;
    if (preimage === undefined) continue;
    seen.add(key);
    visit(key);
    queue.push(...inputKeys(preimage));
  }
}

/** inputKeys lists the keys a preimage hashes: its inputs' keys, or the key a rerun key derives from. */
function inputKeys(preimage: unknown): string[] {
  if (typeof preimage !== 'object' || preimage === null) return [];
  if ('inputs' in preimage && Array.isArray(preimage.inputs)) {
    return preimage.inputs.flatMap((i: unknown) => (typeof i === 'object' && i !== null && 'key' in i && typeof i.key === 'string' ? [i.key] : []));
  }
  return 'key' in preimage && typeof preimage.key === 'string' ? [preimage.key] : [];
}

/**
 * preimageOf is a key's preimage as a build record knows it: copied into the record (records of earlier tbuild
 * versions) or kept in the store's key preimages, which collection keeps while a record names the key (historyKeys).
 */
export function preimageOf(meta: Preimages, record: { readonly keys: KeyPreimages }, key: string): unknown {
  return Object.hasOwn(record.keys, key) ? record.keys[key] : meta.keyPreimages.get(key)?.preimage;
}

/** historyKeys lists the keys the steps of kept build records were looked up under, with every key below them. */
export function historyKeys(meta: Pick<MetadataStore, 'keyPreimages' | 'buildHistory'>): Set<string> {
  const named = new Set<string>();
  const steps: string[] = [];
  for (const { value } of meta.buildHistory.getRange()) for (const step of value.steps) if (step.cacheKey !== undefined) steps.push(step.cacheKey);
  keyClosure(meta, steps, (key) => named.add(key));
  return named;
}
