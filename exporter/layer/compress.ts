import { gzip } from 'node:zlib';
import { availableParallelism } from 'node:os';
import { promisify } from 'node:util';
import { filterThroughProcess } from '../../cache/index.js';
import { MEDIA_TYPES, type Descriptor } from '../../base/oci.js';
import { assertNever } from '../../base/errors.js';
import { sharedGzipPool, type GzipPool } from './gzip-pool.js';

/** Compression is how layer blobs are compressed. */
export type Compression = 'gzip' | 'zstd' | 'uncompressed';

/** GZIP_CHUNK is the uncompressed size of each independent gzip member. */
export const GZIP_CHUNK = 1024 * 1024;

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
  options: { level?: number; signal: AbortSignal; handOver?: boolean },
): AsyncIterable<Buffer> {
  const level = options.level ?? defaultLevel(compression);
  switch (compression) {
    case 'gzip':
      return parallelGzip(input, { level: level ?? 6, signal: options.signal, ...(options.handOver === true ? { handOver: true } : {}) });
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

/** ParallelGzipOptions controls parallelGzip. */
export interface ParallelGzipOptions {
  readonly level: number;
  readonly signal: AbortSignal;
  /** threads is how many worker threads compress (default: the cores); the bytes are the same for any count. */
  readonly threads?: number;
  /**
   * true hands the input's memory over: a piece that is a whole chunk alone in its memory moves to a worker as it is,
   * uncopied, and the caller never touches it again.
   */
  readonly handOver?: boolean;
}

/**
 * parallelGzip compresses fixed-size chunks independently on worker threads and emits them in order as a multi-member
 * gzip stream (RFC 1952 allows concatenated members; gzip, Go and Node read them). Each member depends only on its
 * chunk, so the stream is the same whatever the number of threads; a last part shorter than a chunk (or a whole
 * small layer) is compressed on libuv's pool, without starting threads.
 */
export async function* parallelGzip(input: AsyncIterable<Buffer>, options: ParallelGzipOptions): AsyncGenerator<Buffer> {
  const { level, signal } = options;
  const threads = Math.max(1, options.threads ?? availableParallelism());
  // Twice the threads: each has its next chunk waiting while the tar of the following one is made.
  const depth = threads * 2;
  const inFlight: Promise<Settled>[] = [];
  // Settle into a value now, so a failing member is never an unhandled rejection while we wait on another.
  const start = (member: Promise<Buffer>): void => {
    inFlight.push(member.then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error })));
  };
  const next = async (): Promise<Buffer> => {
    const settled = await inFlight.shift();
    if (settled === undefined || !settled.ok) throw settled?.error;
    return settled.value;
  };
  let pool: GzipPool | undefined;
  try {
    // Each chunk gets a buffer of its own, which moves to a worker without a copy.
    let chunk = new ArrayBuffer(GZIP_CHUNK);
    let view = Buffer.from(chunk);
    let filled = 0;
    let members = 0;
    const send = async (whole: ArrayBuffer): Promise<void> => {
      pool ??= await sharedGzipPool(threads);
      start(pool.gzip(whole, level));
      members++;
    };
    for await (const piece of input) {
      if (options.handOver === true && filled === 0 && isWholeChunk(piece)) {
        await send(piece.buffer);
        while (inFlight.length >= depth) yield await next();
        signal.throwIfAborted();
        continue;
      }
      for (let offset = 0; offset < piece.length; ) {
        const n = piece.copy(view, filled, offset, Math.min(piece.length, offset + GZIP_CHUNK - filled));
        filled += n;
        offset += n;
        if (filled < GZIP_CHUNK) continue;
        await send(chunk);
        chunk = new ArrayBuffer(GZIP_CHUNK);
        view = Buffer.from(chunk);
        filled = 0;
        while (inFlight.length >= depth) yield await next();
      }
      signal.throwIfAborted();
    }
    // An empty input still needs one (empty) member to be a valid gzip stream.
    if (filled > 0 || members === 0) start(gzipAsync(view.subarray(0, filled), { level }));
    while (inFlight.length > 0) yield await next();
  } finally {
    // The pool stays for the next export; only this one's members are waited for.
    await Promise.all(inFlight);
  }
}

/** isWholeChunk tells whether a piece is exactly one chunk and alone in its memory, which can then move as it is. */
function isWholeChunk(piece: Buffer): piece is Buffer & { buffer: ArrayBuffer } {
  return piece.length === GZIP_CHUNK && piece.byteOffset === 0 && piece.buffer.byteLength === GZIP_CHUNK && piece.buffer instanceof ArrayBuffer;
}
