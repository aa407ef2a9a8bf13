import { createReadStream } from 'node:fs';
import type { Descriptor } from '../base/oci.js';
import type { AttestedImage, BuiltImage } from '../exporter/index.js';
import type { ProgressSink } from '../base/progress.js';
import type { BlobOpener, PushProgress, RegistryClient } from '../registry/index.js';
import { parseReference, type Reference } from '../registry/index.js';
import type { Store } from './store.js';

/** PushTarget is one repository and every tag of it to push. */
export interface PushTarget {
  readonly ref: Reference;
  readonly name: string;
  readonly tags: readonly string[];
}

/** groupPushTargets merges names of the same repository, so blobs go up once and the manifest once per tag. */
export function groupPushTargets(names: readonly string[]): PushTarget[] {
  const byRepo = new Map<string, { ref: Reference; name: string; tags: string[] }>();
  for (const name of names) {
    const ref = parseReference(name);
    const key = `${ref.registry}/${ref.repository}`;
    const known = byRepo.get(key);
    if (known === undefined || ref.tag === undefined) byRepo.set(key, { ref, name, tags: [...(known?.tags ?? [])] });
    else known.tags.push(ref.tag);
  }
  return [...byRepo.values()];
}

/**
 * storeBlobOpener reads blobs (or byte ranges of them, for chunked uploads) from the local content store. A blob the
 * store lacks is fetched first when `fetch` is given: an imported cache layer is downloaded only if the registry
 * could neither find nor mount it.
 */
export function storeBlobOpener(store: Store, fetch?: (blob: Descriptor) => Promise<void>): BlobOpener {
  return async (d, range) => {
    if (fetch !== undefined && (await store.content.info(d.digest)) === undefined) await fetch(d);
    return range === undefined ? store.content.readBlob(d.digest) : createReadStream(store.content.blobPath(d.digest), range);
  };
}

/** PUSH_STATUS names what happened to each blob in the progress output. */
const PUSH_STATUS: Record<Exclude<PushProgress['status'], 'manifest-pushed'>, string> = {
  exists: 'exists',
  mounted: 'mounted',
  uploading: 'pushing',
  uploaded: 'pushing',
};

/**
 * pushStatus reports each blob of a push under the push step: found in the repository already, mounted from another
 * repository of the registry, or uploaded (with the bytes sent so far, then its size).
 */
export function pushStatus(progress: { sink: ProgressSink; vertex: string }): (event: PushProgress) => void {
  return (event) => {
    if (event.status === 'manifest-pushed') return;
    const done = event.status !== 'uploading';
    progress.sink.emit({
      type: 'status',
      vertex: progress.vertex,
      id: `${PUSH_STATUS[event.status]} ${event.digest}`,
      current: done ? event.size : (event.current ?? 0),
      total: event.size,
      ...(done ? { completed: true } : {}),
      time: Date.now(),
    });
  };
}

/**
 * pushBuiltImage pushes an image to every named repository; the local store is only read. An attested image goes up
 * as its image index (the image manifest, its attestation manifest, then the index under the tags).
 */
export async function pushBuiltImage(
  image: BuiltImage,
  target: PushTarget,
  options: {
    registry: RegistryClient;
    store: Store;
    signal: AbortSignal;
    fetch?: (blob: Descriptor) => Promise<void>;
    progress?: { sink: ProgressSink; vertex: string };
    attested?: AttestedImage;
  },
): Promise<string> {
  const onProgress = options.progress === undefined ? {} : { onProgress: pushStatus(options.progress) };
  if (options.attested !== undefined) {
    const blobs = storeBlobOpener(options.store, options.fetch);
    const { pushAttestedImage } = await import('../exporter/lazy.js');
    return pushAttestedImage(options.attested, target.ref, blobs, { registry: options.registry, signal: options.signal, tags: target.tags, ...onProgress });
  }
  const pushed = await options.registry.pushImage(
    target.ref,
    { manifest: image.manifestBytes, manifestMediaType: image.manifestDescriptor.mediaType, config: image.manifest.config, layers: image.manifest.layers },
    storeBlobOpener(options.store, options.fetch),
    { signal: options.signal, tags: target.tags, ...onProgress },
  );
  return pushed.digest;
}
