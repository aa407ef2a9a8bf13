import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { InternalError } from '../base/errors.js';
import type { ContextManifest } from './context-manifest.js';
import type { ClientMessage } from './messages.js';

/** CHUNK_SIZE is the size of the FileChunk messages a context file is cut into. */
export const CHUNK_SIZE = 256 * 1024;
const MANIFEST_BATCH = 4096;

/** MessageWriter sends messages and resolves once the stream can take more (backpressure). */
export type MessageWriter = (m: ClientMessage) => Promise<void>;

/** sendManifest sends the manifest in batches. */
export async function sendManifest(manifest: ContextManifest, write: MessageWriter): Promise<void> {
  const { entries } = manifest;
  for (let i = 0; i < entries.length || i === 0; i += MANIFEST_BATCH) {
    await write({ kind: 'manifest', manifest: { entries: entries.slice(i, i + MANIFEST_BATCH), last: i + MANIFEST_BATCH >= entries.length } });
  }
}

/** sendFiles streams the wanted files in chunks, one at a time, and returns the bytes sent. */
export async function sendFiles(
  manifest: ContextManifest,
  wants: readonly number[],
  write: MessageWriter,
  options: { signal: AbortSignal; onSent?: (bytes: number) => void },
): Promise<number> {
  let bytes = 0;
  for (const index of wants) {
    const entry = manifest.entries[index];
    if (entry === undefined || entry.kind !== 'FILE') throw new InternalError(`Cannot send context entry ${index}: the builder asked for something that is not a file`);
    const stream = createReadStream(join(manifest.dir, entry.path), { highWaterMark: CHUNK_SIZE, signal: options.signal });
    for await (const chunk of stream) {
      if (!Buffer.isBuffer(chunk)) throw new InternalError('Cannot read a context file: expected bytes');
      bytes += chunk.length;
      await write({ kind: 'file', file: { index, data: chunk, eof: false } });
      options.onSent?.(bytes);
    }
    await write({ kind: 'file', file: { index, data: Buffer.alloc(0), eof: true } });
  }
  return bytes;
}
