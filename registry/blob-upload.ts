import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { RegistryError } from '../base/errors.js';
import type { Descriptor } from '../base/oci.js';
import { mountScope, pushScope } from './auth.js';
import type { Endpoint } from './endpoints.js';
import type { Reference } from './reference.js';
import { firstHeader, isRetryableError, responseError, type Operation, type RegistryRequest, type Transport } from './transport.js';

/** BlobRange is an inclusive byte range of a blob. */
export interface BlobRange {
  readonly start: number;
  readonly end: number;
}

/** BlobOpener opens a fresh stream of a blob's raw bytes, or of a range of them (called again if an upload restarts). */
export type BlobOpener = (descriptor: Descriptor, range?: BlobRange) => Promise<NodeJS.ReadableStream>;

/** UploadContext is what uploading a blob needs from the client. */
export interface UploadContext {
  readonly transport: Transport;
  readonly endpoint: Endpoint;
  readonly credentialsHost: string;
  readonly operation: Operation;
  readonly signal: AbortSignal;
  /** Blobs larger than this go up in PATCH chunks of this size; smaller ones in one PUT. */
  readonly chunkSize: number;
}

/** UPLOAD_ATTEMPTS bounds how often one blob upload is restarted from scratch after a server error or a reset. */
const UPLOAD_ATTEMPTS = 4;
const BACKOFF_MS = 250;

/** mountBlob asks the registry to link a blob from another repository; it returns an upload URL when it declined. */
export async function mountBlob(ctx: UploadContext, ref: Reference, descriptor: Descriptor, from: string): Promise<'mounted' | URL> {
  const query = new URLSearchParams({ mount: descriptor.digest, from });
  const res = await ctx.transport.send({
    ...base(ctx, mountScope(ref.repository, from)),
    method: 'POST',
    url: `/v2/${ref.repository}/blobs/uploads/?${query.toString()}`,
  });
  if (res.statusCode === 201) {
    await res.body.dump();
    return 'mounted';
  }
  // 202: the registry could not mount (or does not support it) and opened a normal upload session instead.
  if (res.statusCode === 202) {
    await res.body.dump();
    return locationOf(ctx, res.headers['location']);
  }
  throw await responseError(ctx.operation, res);
}

/** uploadBlob uploads a blob, restarting the whole upload after a 5xx or a dropped connection. */
export async function uploadBlob(ctx: UploadContext, ref: Reference, descriptor: Descriptor, blobs: BlobOpener, session?: URL): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    ctx.signal.throwIfAborted();
    try {
      const location = attempt === 1 && session !== undefined ? session : await startUpload(ctx, ref);
      if (descriptor.size > ctx.chunkSize) await uploadChunked(ctx, ref, descriptor, blobs, location);
      else await uploadMonolithic(ctx, ref, descriptor, blobs, location);
      return;
    } catch (err) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      if (attempt >= UPLOAD_ATTEMPTS || !isRetryableError(err)) throw err;
      await sleep(BACKOFF_MS * 2 ** (attempt - 1), undefined, { signal: ctx.signal });
    }
  }
}

function base(ctx: UploadContext, scope: string): Omit<RegistryRequest, 'method' | 'url'> {
  return { endpoint: ctx.endpoint, credentialsHost: ctx.credentialsHost, scope, operation: ctx.operation, signal: ctx.signal };
}

async function startUpload(ctx: UploadContext, ref: Reference): Promise<URL> {
  const res = await ctx.transport.send({ ...base(ctx, pushScope(ref.repository)), method: 'POST', url: `/v2/${ref.repository}/blobs/uploads/` });
  if (res.statusCode !== 202) throw await responseError(ctx.operation, res);
  await res.body.dump();
  return locationOf(ctx, res.headers['location']);
}

function locationOf(ctx: UploadContext, header: string | string[] | undefined): URL {
  const location = firstHeader(header);
  if (location === undefined) {
    throw new RegistryError(`${ctx.operation.action} "${ctx.operation.ref}": upload started without a Location header`, { ref: ctx.operation.ref });
  }
  return new URL(location, ctx.endpoint.base);
}

async function uploadMonolithic(ctx: UploadContext, ref: Reference, descriptor: Descriptor, blobs: BlobOpener, location: URL): Promise<void> {
  const url = new URL(location);
  url.searchParams.set('digest', descriptor.digest);
  const res = await ctx.transport.send({
    ...base(ctx, pushScope(ref.repository)),
    method: 'PUT',
    url: url.href,
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(descriptor.size) },
    body: async () => toReadable(await blobs(descriptor)),
    // A half-sent body spoils the session: uploadBlob restarts from a fresh one instead.
    retry: false,
  });
  if (res.statusCode !== 201) throw await responseError(ctx.operation, res);
  await res.body.dump();
}

async function uploadChunked(ctx: UploadContext, ref: Reference, descriptor: Descriptor, blobs: BlobOpener, location: URL): Promise<void> {
  let url = location;
  for (let start = 0; start < descriptor.size; start += ctx.chunkSize) {
    const end = Math.min(start + ctx.chunkSize, descriptor.size) - 1;
    const res = await ctx.transport.send({
      ...base(ctx, pushScope(ref.repository)),
      method: 'PATCH',
      url: url.href,
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': String(end - start + 1),
        'content-range': `${start}-${end}`,
      },
      body: async () => toReadable(await blobs(descriptor, { start, end })),
      retry: false,
    });
    if (res.statusCode !== 202) throw await responseError(ctx.operation, res);
    await res.body.dump();
    url = locationOf(ctx, res.headers['location'] ?? url.href);
  }
  const done = new URL(url);
  done.searchParams.set('digest', descriptor.digest);
  const res = await ctx.transport.send({
    ...base(ctx, pushScope(ref.repository)),
    method: 'PUT',
    url: done.href,
    headers: { 'content-length': '0' },
    retry: false,
  });
  if (res.statusCode !== 201) throw await responseError(ctx.operation, res);
  await res.body.dump();
}

function toReadable(stream: NodeJS.ReadableStream): Readable {
  return stream instanceof Readable ? stream : new Readable().wrap(stream);
}
