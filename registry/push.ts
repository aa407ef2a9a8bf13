import { Readable } from 'node:stream';
import { digestOf, type Digest } from '../base/digest.js';
import { RegistryError } from '../base/errors.js';
import type { Descriptor } from '../base/oci.js';
import { pushScope } from './auth.js';
import type { Endpoint } from './endpoints.js';
import type { Reference } from './reference.js';
import { firstHeader, responseError, type Operation, type Transport } from './transport.js';

/** PushImage is a serialised manifest and the blobs it references. */
export interface PushImage {
  readonly manifest: Uint8Array;
  readonly manifestMediaType: string;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
}

/** BlobOpener opens a fresh stream of a blob's raw bytes (called again if an upload is retried). */
export type BlobOpener = (descriptor: Descriptor) => Promise<NodeJS.ReadableStream>;

/** PushProgress reports one blob or the manifest during a push. */
export interface PushProgress {
  readonly digest: Digest;
  readonly size: number;
  readonly status: 'exists' | 'uploading' | 'uploaded' | 'manifest-pushed';
}

/** PushContext is what pushing needs from the client. */
export interface PushContext {
  readonly transport: Transport;
  readonly endpoint: Endpoint;
  readonly credentialsHost: string;
  readonly operation: Operation;
  readonly signal: AbortSignal;
  readonly onProgress: ((event: PushProgress) => void) | undefined;
}

/** pushToEndpoint uploads missing blobs (config first, then layers) and then puts the manifest. */
export async function pushToEndpoint(ctx: PushContext, ref: Reference, image: PushImage, blobs: BlobOpener): Promise<{ digest: Digest }> {
  const seen = new Set<Digest>();
  // Sequential on purpose: the caller bounds push concurrency across images with its own queue.
  for (const descriptor of [image.config, ...image.layers]) {
    if (seen.has(descriptor.digest)) continue;
    seen.add(descriptor.digest);
    ctx.signal.throwIfAborted();
    if (await blobExists(ctx, ref, descriptor)) {
      ctx.onProgress?.({ digest: descriptor.digest, size: descriptor.size, status: 'exists' });
      continue;
    }
    ctx.onProgress?.({ digest: descriptor.digest, size: descriptor.size, status: 'uploading' });
    await uploadBlob(ctx, ref, descriptor, blobs);
    ctx.onProgress?.({ digest: descriptor.digest, size: descriptor.size, status: 'uploaded' });
  }
  const digest = digestOf(image.manifest);
  const res = await ctx.transport.send({
    ...requestBase(ctx, ref),
    method: 'PUT',
    url: `/v2/${ref.repository}/manifests/${ref.tag ?? ref.digest ?? digest}`,
    headers: { 'content-type': image.manifestMediaType },
    body: () => Promise.resolve(image.manifest),
  });
  if (res.statusCode !== 201 && res.statusCode !== 200) throw await responseError(ctx.operation, res);
  await res.body.dump();
  if (ref.digest !== undefined && ref.digest !== digest) {
    throw new RegistryError(`${ctx.operation.action} "${ctx.operation.ref}": manifest digest is ${digest}, not the requested digest`, {
      ref: ctx.operation.ref,
    });
  }
  ctx.onProgress?.({ digest, size: image.manifest.length, status: 'manifest-pushed' });
  return { digest };
}

function requestBase(ctx: PushContext, ref: Reference) {
  return {
    endpoint: ctx.endpoint,
    credentialsHost: ctx.credentialsHost,
    scope: pushScope(ref.repository),
    operation: ctx.operation,
    signal: ctx.signal,
  };
}

async function blobExists(ctx: PushContext, ref: Reference, descriptor: Descriptor): Promise<boolean> {
  const res = await ctx.transport.send({ ...requestBase(ctx, ref), method: 'HEAD', url: `/v2/${ref.repository}/blobs/${descriptor.digest}` });
  await res.body.dump();
  if (res.statusCode === 200) return true;
  if (res.statusCode === 404) return false;
  throw await responseError(ctx.operation, res);
}

async function uploadBlob(ctx: PushContext, ref: Reference, descriptor: Descriptor, blobs: BlobOpener): Promise<void> {
  const start = await ctx.transport.send({ ...requestBase(ctx, ref), method: 'POST', url: `/v2/${ref.repository}/blobs/uploads/` });
  if (start.statusCode !== 202) throw await responseError(ctx.operation, start);
  await start.body.dump();
  const location = firstHeader(start.headers['location']);
  if (location === undefined) {
    throw new RegistryError(`${ctx.operation.action} "${ctx.operation.ref}": upload started without a Location header`, { ref: ctx.operation.ref });
  }
  const url = new URL(location, ctx.endpoint.base);
  url.searchParams.set('digest', descriptor.digest);
  const res = await ctx.transport.send({
    ...requestBase(ctx, ref),
    method: 'PUT',
    url: url.href,
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(descriptor.size) },
    body: async () => toReadable(await blobs(descriptor)),
  });
  if (res.statusCode !== 201) throw await responseError(ctx.operation, res);
  await res.body.dump();
}

function toReadable(stream: NodeJS.ReadableStream): Readable {
  return stream instanceof Readable ? stream : new Readable().wrap(stream);
}
