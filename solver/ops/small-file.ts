/** Reading many small files whose size a walk already knows: one open, one read and one close a file. */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';

/** Files up to this size are read whole, synchronously, by the context checksum and the layer writer. */
export const SMALL_FILE = 256 * 1024;

/**
 * SmallFileReader reads a file of known size into a buffer of its own, reused from file to file: readFileSync
 * would fstat each file again and allocate a buffer per file (for a 20,000-file context, 20,000 fstat calls
 * and the garbage of 20,000 buffers). Synchronous on purpose (STYLE §7's measured exception): a thread-pool
 * round trip per file costs more than the read. Each checksum and layer writer has its own reader.
 */
export class SmallFileReader {
  readonly #buffer = Buffer.allocUnsafe(SMALL_FILE + 1);

  /**
   * read returns the bytes of the file at `path`, which a stat found `size` bytes long. The result may be the reader's
   * own buffer: it is valid until the next read. One read asks for a byte more than `size`: on a regular file a
   * shorter answer is its end. A file that has grown past SMALL_FILE since is read whole, as readFileSync reads it.
   */
  read(path: string, size: number): Buffer {
    if (size > SMALL_FILE) return readFileSync(path);
    const fd = openSync(path, 'r');
    let length = 0;
    try {
      const want = size + 1;
      length = readSync(fd, this.#buffer, 0, want, 0);
      // Shorter than the stat said (shrunk, or a short read): read on until the file's end.
      if (length < size) length = this.#readRest(fd, length);
      else if (length === want) length = this.#readRest(fd, length);
    } finally {
      closeSync(fd);
    }
    if (length > SMALL_FILE) return readFileSync(path);
    return this.#buffer.subarray(0, length);
  }

  /** Reads from `from` until the file's end or the buffer is full (SMALL_FILE + 1: the caller reads it whole). */
  #readRest(fd: number, from: number): number {
    let length = from;
    while (length < this.#buffer.length) {
      const n = readSync(fd, this.#buffer, length, this.#buffer.length - length, length);
      if (n === 0) break;
      length += n;
    }
    return length;
  }
}
