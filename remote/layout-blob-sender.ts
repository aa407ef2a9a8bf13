import { createReadStream } from 'node:fs';
import { isDigest } from '../base/digest.js';
import type { ClientLayout } from '../controller/index.js';
import type { BlobRequestMsg, ClientMessage } from './messages.js';

/** BLOB_CHUNK_BYTES is the size of the chunks a blob is sent in. */
const BLOB_CHUNK_BYTES = 256 * 1024;

/**
 * LayoutBlobSender serves the blobs of the client's OCI layout contexts the builder asks for: each request streams
 * one file of the layout's blobs/sha256 folder back in chunks, while other messages go on (several layers at once).
 * A blob it cannot read is answered with the reason; a failed write of the call is handed to `failed`.
 */
export class LayoutBlobSender {
  readonly #layouts: ReadonlyMap<string, ClientLayout>;
  readonly #write: (m: ClientMessage) => Promise<void>;
  readonly #failed: (err: unknown) => void;
  readonly #running = new Set<Promise<void>>();

  constructor(layouts: ReadonlyMap<string, ClientLayout>, write: (m: ClientMessage) => Promise<void>, failed: (err: unknown) => void) {
    this.#layouts = layouts;
    this.#write = write;
    this.#failed = failed;
  }

  /** serve starts sending the blob a request names; it does not wait for it. */
  serve(request: BlobRequestMsg): void {
    const p = this.#send(request).catch((err: unknown) => this.#failed(err));
    this.#running.add(p);
    void p.finally(() => this.#running.delete(p));
  }

  /** settled waits for the blobs being sent. */
  async settled(): Promise<void> {
    await Promise.all([...this.#running]);
  }

  async #send(request: BlobRequestMsg): Promise<void> {
    const { id } = request;
    const path = this.#pathOf(request);
    if (typeof path !== 'string') {
      await this.#write({ kind: 'blob', blob: { id, data: Buffer.alloc(0), eof: true, error: path.error } });
      return;
    }
    let reading = true;
    try {
      for await (const data of createReadStream(path, { highWaterMark: BLOB_CHUNK_BYTES }) as AsyncIterable<Buffer>) {
        reading = false;
        await this.#write({ kind: 'blob', blob: { id, data, eof: false, error: '' } });
        reading = true;
      }
    } catch (err) {
      // A write that failed belongs to the call; a read that failed is the answer to the request.
      if (!reading) throw err;
      const reason = err instanceof Error && 'code' in err && err.code === 'ENOENT' ? `the layout has no blob ${request.digest}` : String(err);
      await this.#write({ kind: 'blob', blob: { id, data: Buffer.alloc(0), eof: true, error: `${this.#layouts.get(request.layout)?.folder.dir ?? request.layout}: ${reason}` } });
      return;
    }
    await this.#write({ kind: 'blob', blob: { id, data: Buffer.alloc(0), eof: true, error: '' } });
  }

  /** pathOf is the file of a requested blob, or why it is not served: only the layouts of the build's contexts are. */
  #pathOf(request: BlobRequestMsg): string | { readonly error: string } {
    const layout = this.#layouts.get(request.layout);
    if (layout === undefined) return { error: `no OCI layout context is named ${request.layout}` };
    if (!isDigest(request.digest)) return { error: `"${request.digest}" is not a sha256 digest` };
    return layout.folder.blobPath(request.digest);
  }
}
