import { gzip } from 'node:zlib';
import { promisify } from 'node:util';
import { filterThroughProcess } from '../../cache/index.js';
import { MEDIA_TYPES, type Descriptor } from '../../base/oci.js';
import { assertNever } from '../../base/errors.js';

/** Compression is how layer blobs are compressed. */
export type Compression = 'gzip' | 'zstd' | 'uncompressed';

/** GZIP_CHUNK is the uncompressed size of each independent gzip member. */
export const GZIP_CHUNK = 1024 * 1024;
/** GZIP_IN_FLIGHT bounds the members being compressed at once (libuv runs them on its threadpool). */
const GZIP_IN_FLIGHT = 4;

const gzipAsync = promisify(gzip);

/** dockerLayerMediaType names an OCI layer media type the Docker way (zstd has no Docker name and keeps the OCI one). */
export function dockerLayerMediaType(mediaType: string): string {
  if (mediaType === MEDIA_TYPES.ociLayerGzip) return MEDIA_TYPES.dockerLayerGzip;
  if (mediaType === MEDIA_TYPES.ociLayer) return MEDIA_TYPES.dockerLayer;
  return mediaType;
}

/** dockerLayer is a layer's descriptor with its Docker media type and without annotations, which Docker's form drops. */
export function dockerLayer(d: Descriptor): Descriptor {
  const { annotations: _annotations, ...rest } = d;
  return { ...rest, mediaType: dockerLayerMediaType(d.mediaType) };
}

/** layerMediaType returns the OCI layer media type for a compression. */
export function layerMediaType(compression: Compression): string {
  switch (compression) {
    case 'gzip':
      return MEDIA_TYPES.ociLayerGzip;
    case 'zstd':
      return MEDIA_TYPES.ociLayerZstd;
    case 'uncompressed':
      return MEDIA_TYPES.ociLayer;
    default:
      return assertNever(compression, 'compression');
  }
}

/** defaultLevel returns the level used when none is given. */
export function defaultLevel(compression: Compression): number | undefined {
  return compression === 'gzip' ? 6 : compression === 'zstd' ? 3 : undefined;
}

/** compress streams `input` through the chosen compressor. */
export function compress(
  input: AsyncIterable<Buffer>,
  compression: Compression,
  options: { level?: number; signal: AbortSignal },
): AsyncIterable<Buffer> {
  const level = options.level ?? defaultLevel(compression);
  switch (compression) {
    case 'gzip':
      return parallelGzip(input, level ?? 6, options.signal);
    case 'zstd': {
      const args = ['-c', '-q', '-T2', `-${level ?? 3}`];
      if ((level ?? 3) > 19) args.push('--ultra');
      return filterThroughProcess('zstd', args, input, { signal: options.signal });
    }
    case 'uncompressed':
      return input;
    default:
      return assertNever(compression, 'compression');
  }
}

type Settled = { ok: true; value: Buffer } | { ok: false; error: unknown };

/**
 * parallelGzip compresses fixed-size chunks independently on the threadpool and emits them in order as
 * a multi-member gzip stream (RFC 1952 allows concatenated members; gzip, Go and Node read them).
 */
export async function* parallelGzip(input: AsyncIterable<Buffer>, level: number, signal: AbortSignal): AsyncGenerator<Buffer> {
  const inFlight: Promise<Settled>[] = [];
  const start = (chunk: Buffer): void => {
    // Settle into a value now, so a failing member is never an unhandled rejection while we wait on another.
    inFlight.push(gzipAsync(chunk, { level }).then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error })));
  };
  const next = async (): Promise<Buffer> => {
    const settled = await inFlight.shift();
    if (settled === undefined || !settled.ok) throw settled?.error;
    return settled.value;
  };
  try {
    let pending: Buffer[] = [];
    let pendingSize = 0;
    let members = 0;
    for await (const chunk of input) {
      pending.push(chunk);
      pendingSize += chunk.length;
      while (pendingSize >= GZIP_CHUNK) {
        const all = Buffer.concat(pending, pendingSize);
        start(all.subarray(0, GZIP_CHUNK));
        members++;
        pending = [all.subarray(GZIP_CHUNK)];
        pendingSize -= GZIP_CHUNK;
        while (inFlight.length >= GZIP_IN_FLIGHT) yield await next();
      }
      signal.throwIfAborted();
    }
    // An empty input still needs one (empty) member to be a valid gzip stream.
    if (pendingSize > 0 || members === 0) start(Buffer.concat(pending, pendingSize));
    while (inFlight.length > 0) yield await next();
  } finally {
    await Promise.all(inFlight);
  }
}
