import { digestOf, type Digest } from '../base/digest.js';
import { mapLimit } from '../base/async.js';
import { RegistryError } from '../base/errors.js';
import { meterTransfer } from '../base/transfer-meter.js';
import type { Descriptor } from '../base/oci.js';
import { pushScope } from './auth.js';
import type { BlobLocations } from './blob-locations.js';
import { mountBlob, uploadBlob, type BlobOpener, type UploadContext } from './blob-upload.js';
import type { Reference } from './reference.js';
import { responseError } from './transport.js';

export type { BlobOpener } from './blob-upload.js';

/** PushImage is a serialised manifest and the blobs it references (an index references none: its manifests go first). */
export interface PushImage {
  readonly manifest: Uint8Array;
  readonly manifestMediaType: string;
  readonly config: Descriptor | undefined;
  readonly layers: readonly Descriptor[];
}

/** PushProgress reports one blob or the manifest during a push. */
export interface PushProgress {
  readonly digest: Digest;
  readonly size: number;
  readonly status: 'exists' | 'mounted' | 'uploading' | 'uploaded' | 'manifest-pushed';
  /** Bytes read for the upload so far, while `uploading`. */
  readonly current?: number;
}

/** PushContext is what pushing needs from the client. */
export interface PushContext extends UploadContext {
  readonly onProgress: ((event: PushProgress) => void) | undefined;
  readonly locations: BlobLocations;
  /** Blobs uploaded at once. */
  readonly concurrency: number;
}

/** PUSH_CONCURRENCY is how many blobs of one image go up at once by default. */
export const PUSH_CONCURRENCY = 3;
const MAX_MOUNT_SOURCES = 3;

/**
 * pushToEndpoint uploads missing blobs (mounting them from sibling repositories when known), then puts the
 * manifest under the reference's tag or digest and under every extra tag.
 */
export async function pushToEndpoint(
  ctx: PushContext,
  ref: Reference,
  image: PushImage,
  blobs: BlobOpener,
  extraTags: readonly string[] = [],
): Promise<{ digest: Digest }> {
  const unique = new Map<Digest, Descriptor>();
  for (const d of [...image.layers, ...(image.config === undefined ? [] : [image.config])]) if (!unique.has(d.digest)) unique.set(d.digest, d);
  // The first failure stops the other uploads; all settle before the error surfaces.
  const group = new AbortController();
  const signal = AbortSignal.any([ctx.signal, group.signal]);
  const inner: PushContext = { ...ctx, signal };
  try {
    await mapLimit([...unique.values()], ctx.concurrency, async (descriptor) => {
      try {
        await pushBlob(inner, ref, descriptor, blobs);
      } catch (err) {
        group.abort(err);
        throw err;
      }
    });
  } catch (err) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    throw err;
  }
  const digest = digestOf(image.manifest);
  const targets = [ref.tag ?? ref.digest ?? digest, ...extraTags.filter((t) => t !== ref.tag)];
  for (const target of targets) await putManifest(ctx, ref, image, target);
  if (ref.digest !== undefined && ref.digest !== digest) {
    throw new RegistryError(`${ctx.operation.action} "${ctx.operation.ref}": manifest digest is ${digest}, not the requested digest`, {
      ref: ctx.operation.ref,
    });
  }
  ctx.onProgress?.({ digest, size: image.manifest.length, status: 'manifest-pushed' });
  return { digest };
}

async function pushBlob(ctx: PushContext, ref: Reference, descriptor: Descriptor, blobs: BlobOpener): Promise<void> {
  const progress = (status: PushProgress['status']): void => ctx.onProgress?.({ digest: descriptor.digest, size: descriptor.size, status });
  ctx.signal.throwIfAborted();
  if (await blobExists(ctx, ref, descriptor)) {
    progress('exists');
  } else {
    const sources = (await ctx.locations.repositoriesOf(ref.registry, descriptor.digest)).filter((r) => r !== ref.repository);
    let session: URL | undefined;
    let mounted = false;
    for (const from of sources.slice(0, MAX_MOUNT_SOURCES)) {
      try {
        const outcome = await mountBlob(ctx, ref, descriptor, from);
        if (outcome === 'mounted') {
          mounted = true;
          break;
        }
        session ??= outcome;
      } catch (err) {
        // A mount is only a shortcut: when the registry refuses it, upload the blob instead.
        if (ctx.signal.aborted || !(err instanceof RegistryError)) throw err;
      }
    }
    if (mounted) {
      progress('mounted');
    } else {
      progress('uploading');
      const { digest, size } = descriptor;
      // The bytes are counted as the upload reads them, which the connection paces; a chunk counts from its start.
      const metered: BlobOpener = async (d, range) =>
        meterTransfer(await blobs(d, range), (n) => ctx.onProgress?.({ digest, size, status: 'uploading', current: (range?.start ?? 0) + n }));
      await uploadBlob(ctx, ref, descriptor, metered, session);
      progress('uploaded');
    }
  }
  await ctx.locations.add(ref.registry, descriptor.digest, ref.repository);
}

async function putManifest(ctx: PushContext, ref: Reference, image: PushImage, target: string): Promise<void> {
  const res = await ctx.transport.send({
    endpoint: ctx.endpoint,
    credentialsHost: ctx.credentialsHost,
    scope: pushScope(ref.repository),
    operation: ctx.operation,
    signal: ctx.signal,
    method: 'PUT',
    url: `/v2/${ref.repository}/manifests/${target}`,
    headers: { 'content-type': image.manifestMediaType },
    body: () => Promise.resolve(image.manifest),
  });
  if (res.statusCode !== 201 && res.statusCode !== 200) throw await responseError(ctx.operation, res);
  await res.body.dump();
}

async function blobExists(ctx: PushContext, ref: Reference, descriptor: Descriptor): Promise<boolean> {
  const res = await ctx.transport.send({
    endpoint: ctx.endpoint,
    credentialsHost: ctx.credentialsHost,
    scope: pushScope(ref.repository),
    operation: ctx.operation,
    signal: ctx.signal,
    method: 'HEAD',
    url: `/v2/${ref.repository}/blobs/${descriptor.digest}`,
  });
  await res.body.dump();
  if (res.statusCode === 200) return true;
  if (res.statusCode === 404) return false;
  throw await responseError(ctx.operation, res);
}
