import { canonicalJson } from '../base/canonical-json.js';
import { digestOf, type Digest } from '../base/digest.js';
import { cacheFields, type CacheFields, type KeyKind, type SourcePin } from './cache-fields.js';
import type { Op } from './graph/index.js';

/**
 * KEY_VERSION changes every cache key when the key formula or op semantics change. 2: COPY and ADD wildcards match
 * as BuildKit's (`**` is one folder outside --parents; no descent into symlinked folders past the first wildcard).
 */
export const KEY_VERSION = 2;

/**
 * KeyInput is one input as a key sees it: its cache key, or, for a key by content (BuildKit's slow cache), the
 * digest of the files selected of it and their selector.
 */
export type KeyInput = { readonly key: Digest } | { readonly content: Digest; readonly selector: readonly string[] };

/** PreimageInput is an input of a preimage: the key hashed for it and, for a key by content, where it came from. */
export interface PreimageInput {
  readonly key: Digest;
  readonly selector?: readonly string[];
  readonly content?: Digest;
}

/** OpPreimage is what an op's key hashes: its named fields, output index and input keys. */
export interface OpPreimage {
  readonly type: 'op';
  readonly version: number;
  readonly kind: KeyKind;
  readonly fields: Readonly<Record<string, unknown>>;
  readonly output: number;
  readonly inputs: readonly PreimageInput[];
}

/** RerunPreimage is what the key of a vertex run again despite its record hashes: that key and the new files. */
export interface RerunPreimage {
  readonly type: 'rerun';
  readonly key: Digest;
  readonly content: Digest;
}

/** CacheKeyPreimage is what a cache key was computed from, kept so that a cache miss can be explained by a diff. */
export type CacheKeyPreimage = OpPreimage | RerunPreimage;

/** ComputedKey is a cache key and its preimage. */
export interface ComputedKey {
  readonly key: Digest;
  readonly preimage: CacheKeyPreimage;
}

/** VertexKeyOptions are what an op's key hashes besides the op: its pin (sources), output index and inputs. */
export interface VertexKeyOptions {
  readonly pin?: SourcePin;
  /** The output the key stands for (0 when absent). */
  readonly output?: number;
  readonly inputs: readonly KeyInput[];
}

/** computeVertexKey computes an op's cache key from its cache fields, pin, output index and inputs. */
export function computeVertexKey(op: Op, options: VertexKeyOptions): ComputedKey {
  return keyFromFields(cacheFields(op, options.pin), options);
}

/** keyFromFields computes the key of picked cache fields (see computeVertexKey). */
export function keyFromFields(picked: CacheFields, options: Omit<VertexKeyOptions, 'pin'>): ComputedKey {
  const output = options.output ?? 0;
  const inputs = options.inputs.map(preimageInput);
  const opDigest = digestOf(canonicalJson({ v: KEY_VERSION, kind: picked.kind, fields: picked.fields }));
  // Output 0 is left out, so the keys of single-output ops keep the form they always had.
  const key = digestOf(canonicalJson({ op: opDigest, ...(output === 0 ? {} : { output }), inputs: inputs.map((i) => i.key) }));
  return { key, preimage: { type: 'op', version: KEY_VERSION, kind: picked.kind, fields: picked.fields, output, inputs } };
}

function preimageInput(input: KeyInput): PreimageInput {
  if ('key' in input) return { key: input.key };
  return { key: digestOf(canonicalJson({ content: input.content })), selector: input.selector, content: input.content };
}

/**
 * computeRerunKey is the key the dependents of a vertex that ignored the cache see when its new result holds other
 * files than the record before it: derived from the files, so a later run that makes the same files matches again.
 */
export function computeRerunKey(key: Digest, contentDigest: Digest): ComputedKey {
  return { key: digestOf(canonicalJson({ rerun: key, content: contentDigest })), preimage: { type: 'rerun', key, content: contentDigest } };
}
