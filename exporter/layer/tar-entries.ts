import type { Stats } from 'node:fs';
import { closeSync, openSync, readlinkSync, readSync } from 'node:fs';
import { posix } from 'node:path';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { ExportError } from '../../base/errors.js';
import { encodeTarHeader, TAR_BLOCK, TAR_END, type TarHeader, type TarType } from '../../cache/index.js';
import { isOverlayXattr, lgetxattr, llistxattr, OPAQUE_MARKER, whiteoutTarName } from '../../native/index.js';
import type { TreeEntry } from '../tree-entry.js';

/** TarEntriesOptions controls how tree entries become tar records. */
export interface TarEntriesOptions {
  /** sourceDateEpoch clamps every mtime to at most this many seconds since the epoch (a layer rewritten for it). */
  readonly sourceDateEpoch?: number;
  /** mtime replaces every entry's mtime (seconds since the epoch), as BuildKit's tar exporter stamps files with the epoch. */
  readonly mtime?: number;
  readonly signal: AbortSignal;
}

/**
 * Output is gathered into chunks of this size: digesting and compressing then see few, large
 * chunks instead of a header, a body and a padding buffer per file.
 */
const CHUNK = 1024 * 1024;

/**
 * tarEntries renders tree entries as a tar stream: whiteouts as `.wh.NAME`, opaque dirs with a `.wh..wh..opq` entry.
 *
 * File contents are read with synchronous calls straight into the output chunk: a layer of 20,000
 * small files is otherwise bound by thread-pool round trips (open, fstat, read, close per file).
 * Every emitted chunk is a fresh buffer, and the event loop gets a turn before each one.
 */
export async function* tarEntries(entries: AsyncIterable<TreeEntry>, options: TarEntriesOptions): AsyncGenerator<Buffer> {
  const out = new ChunkWriter();
  const links = new Map<string, string>();
  const { mtime: fixed, sourceDateEpoch: epoch } = options;
  const clamp = (seconds: number): number => fixed ?? (epoch === undefined ? seconds : Math.min(seconds, epoch));
  for await (const entry of entries) {
    options.signal.throwIfAborted();
    const { stat, rel } = entry;
    const mtime = clamp(Math.floor(stat.mtimeMs / 1000));
    if (entry.whiteout) {
      const name = posix.join(posix.dirname(rel), whiteoutTarName(posix.basename(rel)));
      out.write(encodeTarHeader({ name, type: 'file', mode: 0, uid: 0, gid: 0, size: 0, mtime }));
    } else {
      const type = tarType(stat);
      // Sockets cannot be represented in a tar; like other image builders, leave them out.
      if (type === undefined) continue;
      const base = { name: rel, mode: stat.mode & 0o7777, uid: stat.uid, gid: stat.gid, mtime, xattrs: readXattrs(entry.source) };
      const first = type === 'directory' || stat.nlink <= 1 ? undefined : firstLink(links, stat, rel);
      if (first !== undefined) out.write(encodeTarHeader({ ...base, type: 'link', size: 0, linkname: first }));
      else if (type === 'file') yield* fileRecord(entry, base, out, options.signal);
      else out.write(encodeTarHeader(otherHeader(entry, type, base)));
      if (entry.opaque) out.write(encodeTarHeader({ name: posix.join(rel, OPAQUE_MARKER), type: 'file', mode: 0, uid: 0, gid: 0, size: 0, mtime }));
    }
    yield* out.full();
  }
  out.write(TAR_END);
  yield* out.full();
  const rest = out.take();
  if (rest !== undefined) yield rest;
}

/** firstLink returns the path an inode was first written under, remembering `rel` when this is the first time. */
function firstLink(links: Map<string, string>, stat: Stats, rel: string): string | undefined {
  const key = `${stat.dev}:${stat.ino}`;
  const first = links.get(key);
  if (first === undefined) links.set(key, rel);
  return first;
}

function otherHeader(entry: TreeEntry, type: Exclude<TarType, 'file'>, base: Omit<TarHeader, 'type' | 'size'>): TarHeader {
  const { stat } = entry;
  switch (type) {
    case 'symlink':
      return { ...base, type, size: 0, linkname: readlinkSync(entry.source) };
    case 'char':
    case 'block':
      return { ...base, type, size: 0, devmajor: major(stat.rdev), devminor: minor(stat.rdev) };
    default:
      return { ...base, type, size: 0 };
  }
}

/** fileRecord writes a regular file's header, content and padding, reading the content into the output chunks. */
async function* fileRecord(entry: TreeEntry, base: Omit<TarHeader, 'type' | 'size'>, out: ChunkWriter, signal: AbortSignal): AsyncGenerator<Buffer> {
  const size = entry.stat.size;
  out.write(encodeTarHeader({ ...base, type: 'file', size }));
  if (size === 0) return;
  const fd = openSync(entry.source, 'r');
  try {
    // A file that fits the chunk is read with one call asking for a byte more: a short read is its end, so no
    // further call is needed to know that it has not grown.
    const small = size < out.room();
    const whole = small ? readSmall(fd, out.spare(size + 1), entry.source, size) : yield* readLarge(fd, entry.source, size, out, signal);
    if (small) out.reserve(size);
    // A file that grew since it was listed would give a record whose size is wrong for its content.
    if (!whole && readSync(fd, GROWTH_PROBE, 0, 1, size) !== 0) throw changedError(entry.source, size, 'grew');
  } finally {
    closeSync(fd);
  }
  out.pad(size);
}

/** readLarge reads a file into the output chunk by chunk (a large file is never held whole); false: it may have grown. */
async function* readLarge(fd: number, path: string, size: number, out: ChunkWriter, signal: AbortSignal): AsyncGenerator<Buffer, false> {
  for (let done = 0; done < size; ) {
    const want = Math.min(out.room(), size - done);
    readFully(fd, out.reserve(want), done, path, size);
    done += want;
    if (out.hasFull()) {
      yield* out.full();
      signal.throwIfAborted();
    }
  }
  return false;
}

const GROWTH_PROBE = Buffer.alloc(1);

/**
 * readSmall reads a file of `size` bytes into `into` (size + 1 bytes): true when the first read ended short of the extra
 * byte with the whole content (the file's end), false when it had to read on (then whether it grew is still open).
 */
function readSmall(fd: number, into: Buffer, path: string, size: number): boolean {
  const first = readSync(fd, into, 0, size + 1, 0);
  if (first > size) throw changedError(path, size, 'grew');
  if (first === size) return true;
  readFully(fd, into.subarray(first, size), first, path, size);
  return false;
}

function readFully(fd: number, into: Buffer, position: number, path: string, size: number): void {
  for (let got = 0; got < into.length; ) {
    const n = readSync(fd, into, got, into.length - got, position + got);
    if (n === 0) throw changedError(path, size, 'shrank');
    got += n;
  }
}

function changedError(path: string, size: number, how: 'shrank' | 'grew'): ExportError {
  return new ExportError(`Cannot read "${path}": the file ${how} from ${size} bytes while exporting`);
}

/** ChunkWriter fills fixed-size output chunks; full ones wait in a queue until the generator yields them. */
class ChunkWriter {
  #chunk = Buffer.allocUnsafe(CHUNK);
  #used = 0;
  readonly #ready: Buffer[] = [];

  room(): number {
    return CHUNK - this.#used;
  }

  /** spare returns the next `length` bytes of the chunk (at most room()) without handing them out. */
  spare(length: number): Buffer {
    return this.#chunk.subarray(this.#used, this.#used + length);
  }

  /** reserve hands out the next `length` bytes of the chunk (at most room()) to be filled by the caller. */
  reserve(length: number): Buffer {
    const part = this.#chunk.subarray(this.#used, this.#used + length);
    this.#used += length;
    if (this.#used === CHUNK) this.#rotate();
    return part;
  }

  write(data: Buffer): void {
    for (let at = 0; at < data.length; ) {
      const n = Math.min(this.room(), data.length - at);
      data.copy(this.reserve(n), 0, at, at + n);
      at += n;
    }
  }

  /** pad writes the zeros that round a body of `size` bytes up to a whole block. */
  pad(size: number): void {
    const rest = size % TAR_BLOCK;
    if (rest !== 0) this.write(ZEROS.subarray(0, TAR_BLOCK - rest));
  }

  hasFull(): boolean {
    return this.#ready.length > 0;
  }

  /** full yields the chunks filled so far, giving the event loop a turn before each. */
  async *full(): AsyncGenerator<Buffer> {
    for (let next = this.#ready.shift(); next !== undefined; next = this.#ready.shift()) {
      await nextMacrotask();
      yield next;
    }
  }

  /** take returns the partly filled chunk, if any. */
  take(): Buffer | undefined {
    if (this.#used === 0) return undefined;
    const rest = this.#chunk.subarray(0, this.#used);
    this.#chunk = Buffer.allocUnsafe(CHUNK);
    this.#used = 0;
    return rest;
  }

  #rotate(): void {
    this.#ready.push(this.#chunk);
    this.#chunk = Buffer.allocUnsafe(CHUNK);
    this.#used = 0;
  }
}

const ZEROS = Buffer.alloc(TAR_BLOCK);

function tarType(stat: Stats): TarType | undefined {
  if (stat.isFile()) return 'file';
  if (stat.isDirectory()) return 'directory';
  if (stat.isSymbolicLink()) return 'symlink';
  if (stat.isCharacterDevice()) return 'char';
  if (stat.isBlockDevice()) return 'block';
  if (stat.isFIFO()) return 'fifo';
  return undefined;
}

/** readXattrs returns a path's xattrs except overlayfs-internal ones, sorted by name. */
export function readXattrs(path: string): ReadonlyMap<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const name of llistxattr(path).sort()) {
    if (isOverlayXattr(name)) continue;
    const value = lgetxattr(path, name);
    if (value !== undefined) out.set(name, Buffer.from(value));
  }
  return out;
}

function major(rdev: number): number {
  return ((rdev >> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
}

function minor(rdev: number): number {
  return (rdev & 0xff) | ((rdev >> 12) & 0xfff00);
}
