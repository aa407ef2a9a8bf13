import { PassThrough, type Readable } from 'node:stream';
import { ContentError, UsageError } from '../base/errors.js';
import type { Digest } from '../base/digest.js';
import type { LayoutBlobs } from '../controller/index.js';
import type { BlobChunkMsg, ServerMessage } from './messages.js';

/** MAX_WHOLE_BLOB bounds what `read` holds in memory: an index, a manifest or a config, never a layer. */
const MAX_WHOLE_BLOB = 16 * 1024 * 1024;

/**
 * StreamLayoutBlobs reads the blobs of the client's OCI layout contexts over the open Build call, as BuildKit reads a
 * client's OCI store through its session: each blob the build needs is asked for (BlobRequest) and arrives in chunks
 * (BlobChunk). The digests are checked by whoever reads them (the image resolver, the content store).
 */
export class StreamLayoutBlobs {
  readonly #names: readonly string[];
  readonly #send: (m: ServerMessage) => Promise<void>;
  /** The streams of the requests in flight, by request number. */
  readonly #streams = new Map<number, PassThrough>();
  #next = 1;
  #closed: Error | undefined;

  constructor(names: readonly string[], send: (m: ServerMessage) => Promise<void>) {
    this.#names = names;
    this.#send = send;
  }

  /** layouts are the blobs of each context, by context name, as the build reads them. */
  layouts(): ReadonlyMap<string, LayoutBlobs> {
    return new Map(
      this.#names.map((name): [string, LayoutBlobs] => [
        name,
        { read: (digest, o) => this.#read(name, digest, o.signal), open: (descriptor, o) => this.#open(name, descriptor.digest, o.signal) },
      ]),
    );
  }

  /** deliver hands one chunk to the stream of its request; it waits while that stream is full (backpressure). */
  async deliver(m: BlobChunkMsg): Promise<void> {
    const stream = this.#streams.get(m.id);
    // A request whose reader stopped (an aborted build step) drops what is still on the way.
    if (stream === undefined || stream.destroyed) return;
    if (m.error !== '') {
      stream.destroy(new ContentError(`Cannot read a blob of an OCI layout context from the client: ${m.error}`, { code: 'CONTENT_NOT_FOUND' }));
      return;
    }
    const full = m.data.length > 0 && !stream.write(m.data);
    if (m.eof) stream.end();
    if (full) await drainedOrClosed(stream);
  }

  /** fail fails the requests in flight and those still to come: the client stopped serving. */
  fail(err: Error): void {
    this.#closed = err;
    for (const s of this.#streams.values()) s.destroy(err);
    this.#streams.clear();
  }

  async #open(layout: string, digest: Digest, signal: AbortSignal): Promise<Readable> {
    signal.throwIfAborted();
    if (this.#closed !== undefined) throw this.#closed;
    const id = this.#next++;
    const stream = new PassThrough({ highWaterMark: 1024 * 1024 });
    this.#streams.set(id, stream);
    const onAbort = (): void => void stream.destroy(signal.reason instanceof Error ? signal.reason : new UsageError('Cannot read the blob: the build was cancelled'));
    signal.addEventListener('abort', onAbort, { once: true });
    stream.once('close', () => {
      signal.removeEventListener('abort', onAbort);
      this.#streams.delete(id);
    });
    try {
      await this.#send({ kind: 'blobRequest', blobRequest: { id, layout, digest } });
    } catch (err) {
      stream.destroy();
      throw err;
    }
    return stream;
  }

  async #read(layout: string, digest: Digest, signal: AbortSignal): Promise<Uint8Array> {
    const stream = await this.#open(layout, digest, signal);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_WHOLE_BLOB) {
        stream.destroy();
        throw new UsageError(`Cannot read blob ${digest} of OCI layout context ${layout}: larger than ${MAX_WHOLE_BLOB} bytes, too large for an index, manifest or config`);
      }
      chunks.push(chunk);
    }
    return Buffer.concat(chunks);
  }
}

/** drainedOrClosed settles when a full stream can take more, or is gone. */
function drainedOrClosed(stream: PassThrough): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}
