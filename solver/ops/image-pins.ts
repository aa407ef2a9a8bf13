import { isDigest, type Digest } from '../../base/digest.js';
import { formatPlatform, type Platform } from '../../base/oci.js';
import type { MetadataStore } from '../../cache/index.js';
import type { ResolvedImage } from '../../registry/index.js';
// The reference module alone: the registry index would load the HTTP client on every build.
import { formatReference, withDigest, type Reference } from '../../registry/index.js';

/** StoredResolution is what the store remembers of a reference: the image it resolved to, and when that was confirmed. */
export interface StoredResolution {
  readonly image: ResolvedImage;
  /** What the registry named (index or manifest), compared with a HEAD request; undefined in records from before. */
  readonly namedDigest: Digest | undefined;
  /** When the registry last confirmed the answer (ms since the epoch). */
  readonly resolvedAt: number;
  /** When a check last found the registry unreachable, if none has reached it since. */
  readonly unreachableAt: number | undefined;
}

/** pinKey names the stored resolution of a reference for a platform. */
export function pinKey(ref: Reference, platform: Platform): string {
  return `${formatReference(ref)}|${formatPlatform(platform)}`;
}

/** readPin returns the stored resolution of a reference for a platform, if any. */
export function readPin(meta: MetadataStore, ref: Reference, platform: Platform): StoredResolution | undefined {
  const pin = meta.imagePins.get(pinKey(ref, platform));
  if (pin === undefined) return undefined;
  const named = pin.namedDigest;
  // The record holds the ResolvedImage it was written from (see storePin).
  return {
    image: pin.config as ResolvedImage,
    namedDigest: named !== undefined && isDigest(named) ? named : undefined,
    resolvedAt: pin.resolvedAt,
    unreachableAt: pin.unreachableAt,
  };
}

/**
 * storePin remembers a resolution confirmed at `at`. A tag's answer is also kept under `tag@digest`, the reference the
 * build graph pins, so that reference needs no request of its own.
 */
export async function storePin(meta: MetadataStore, ref: Reference, platform: Platform, resolved: ResolvedImage, at: number): Promise<void> {
  const record = { digest: resolved.digest, namedDigest: resolved.namedDigest, config: resolved, resolvedAt: at };
  const writes = [meta.imagePins.put(pinKey(ref, platform), record)];
  if (ref.digest === undefined) {
    const pinned = withDigest(ref, resolved.digest);
    writes.push(meta.imagePins.put(pinKey(pinned, platform), { ...record, namedDigest: resolved.digest, config: { ...resolved, ref: pinned, namedDigest: resolved.digest } }));
  }
  await Promise.all(writes);
}

/** touchPin records that the registry confirmed a stored resolution again at `at`. */
export async function touchPin(meta: MetadataStore, ref: Reference, platform: Platform, at: number): Promise<void> {
  const key = pinKey(ref, platform);
  const pin = meta.imagePins.get(key);
  if (pin === undefined) return;
  const { unreachableAt: _reached, ...rest } = pin;
  // Another build may confirm or replace it at the same time: either write leaves a confirmed answer.
  await meta.imagePins.put(key, { ...rest, resolvedAt: at });
}

/** markUnreachable records that a check could not reach the registry at `at`, so builds soon after do not wait again. */
export async function markUnreachable(meta: MetadataStore, ref: Reference, platform: Platform, at: number): Promise<void> {
  const key = pinKey(ref, platform);
  const pin = meta.imagePins.get(key);
  if (pin !== undefined) await meta.imagePins.put(key, { ...pin, unreachableAt: at });
}
