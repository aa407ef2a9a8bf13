import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { SnapshotError } from '../../base/errors.js';
import { filterThroughProcess } from './process-filter.js';

/** DetectedCompression is the compression of a layer blob found by its magic bytes. */
export type DetectedCompression = 'gzip' | 'zstd' | 'uncompressed';

/** detectCompression looks at the first bytes of a blob. */
export function detectCompression(head: Uint8Array): DetectedCompression {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
  if (b.length >= 4 && b.readUInt32BE(0) === 0x28b52ffd) return 'zstd';
  if (b.length >= 3 && b.subarray(0, 3).toString('latin1') === 'BZh') throw unsupported('bzip2');
  if (b.length >= 6 && b.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) throw unsupported('xz');
  return 'uncompressed';
}

function unsupported(kind: string): SnapshotError {
  return new SnapshotError(`Cannot apply layer: ${kind} compression is not supported`);
}

/** decompress yields the uncompressed bytes of a gzip, zstd or plain blob, detected by magic bytes. */
export async function* decompress(source: AsyncIterable<Buffer>, options: { signal: AbortSignal }): AsyncGenerator<Buffer> {
  const it = source[Symbol.asyncIterator]();
  let head = Buffer.alloc(0);
  let done = false;
  while (head.length < 6 && !done) {
    const next = await it.next();
    if (next.done === true) done = true;
    else head = Buffer.concat([head, next.value]);
  }
  async function* whole(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    if (done) return;
    for (let next = await it.next(); next.done !== true; next = await it.next()) yield next.value;
  }
  const kind = detectCompression(head);
  switch (kind) {
    case 'uncompressed':
      yield* whole();
      return;
    case 'zstd':
      yield* filterThroughProcess('zstd', ['-dc', '-q'], whole(), options);
      return;
    case 'gzip': {
      const input = Readable.from(whole());
      const gunzip = createGunzip();
      input.on('error', (err) => gunzip.destroy(err));
      input.pipe(gunzip);
      try {
        for await (const chunk of gunzip) {
          options.signal.throwIfAborted();
          yield chunk as Buffer;
        }
      } finally {
        input.destroy();
        gunzip.destroy();
      }
    }
  }
}
