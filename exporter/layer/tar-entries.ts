import type { Stats } from 'node:fs';
import { createReadStream, readFileSync } from 'node:fs';
import { readlink } from 'node:fs/promises';
import { posix } from 'node:path';
import { ExportError } from '../../base/errors.js';
import { encodeTarHeader, OPAQUE_MARKER, tarPadding, TAR_END, WHITEOUT_PREFIX, type TarHeader, type TarType } from '../../cache/layer/index.js';
import { lgetxattr, llistxattr } from '../../native/index.js';
import type { TreeEntry } from '../tree-entry.js';

/** TarEntriesOptions controls how tree entries become tar records. */
export interface TarEntriesOptions {
  /** sourceDateEpoch clamps every mtime to at most this many seconds since the epoch. */
  readonly sourceDateEpoch?: number;
  readonly signal: AbortSignal;
}

/** tarEntries renders tree entries as a tar stream: whiteouts as `.wh.NAME`, opaque dirs with a `.wh..wh..opq` entry. */
export async function* tarEntries(entries: AsyncIterable<TreeEntry>, options: TarEntriesOptions): AsyncGenerator<Buffer> {
  const links = new Map<string, string>();
  const clamp = (seconds: number): number =>
    options.sourceDateEpoch === undefined ? seconds : Math.min(seconds, options.sourceDateEpoch);
  for await (const { entry, content } of prefetchSmallFiles(entries)) {
    options.signal.throwIfAborted();
    const { stat, rel } = entry;
    const mtime = clamp(Math.floor(stat.mtimeMs / 1000));
    if (entry.whiteout) {
      const name = posix.join(posix.dirname(rel), `${WHITEOUT_PREFIX}${posix.basename(rel)}`);
      yield encodeTarHeader({ name, type: 'file', mode: 0, uid: 0, gid: 0, size: 0, mtime });
      continue;
    }
    const type = tarType(stat);
    // Sockets cannot be represented in a tar; like other image builders, leave them out.
    if (type === undefined) continue;
    const base = { name: rel, mode: stat.mode & 0o7777, uid: stat.uid, gid: stat.gid, mtime, xattrs: readXattrs(entry.source) };
    if (type !== 'directory' && stat.nlink > 1) {
      const key = `${stat.dev}:${stat.ino}`;
      const first = links.get(key);
      if (first !== undefined) {
        yield encodeTarHeader({ ...base, type: 'link', size: 0, linkname: first });
        continue;
      }
      links.set(key, rel);
    }
    yield* entryRecords(entry, type, base, content);
    if (entry.opaque) {
      const name = posix.join(rel, OPAQUE_MARKER);
      yield encodeTarHeader({ name, type: 'file', mode: 0, uid: 0, gid: 0, size: 0, mtime });
    }
  }
  yield TAR_END;
}

async function* entryRecords(
  entry: TreeEntry,
  type: TarType,
  base: Omit<TarHeader, 'type' | 'size'>,
  content: Promise<Settled> | undefined,
): AsyncGenerator<Buffer> {
  const { stat } = entry;
  switch (type) {
    case 'file':
      yield encodeTarHeader({ ...base, type, size: stat.size });
      if (content === undefined) yield* fileContent(entry.source, stat.size);
      else yield checkedContent(entry.source, stat.size, await content);
      yield tarPadding(stat.size);
      return;
    case 'symlink': {
      yield encodeTarHeader({ ...base, type, size: 0, linkname: await readlink(entry.source) });
      return;
    }
    case 'char':
    case 'block':
      yield encodeTarHeader({ ...base, type, size: 0, devmajor: major(stat.rdev), devminor: minor(stat.rdev) });
      return;
    default:
      yield encodeTarHeader({ ...base, type, size: 0 });
  }
}

async function* fileContent(path: string, size: number): AsyncGenerator<Buffer> {
  if (size === 0) return;
  let read = 0;
  for await (const chunk of createReadStream(path, { start: 0, end: size - 1, highWaterMark: 1024 * 1024 })) {
    read += (chunk as Buffer).length;
    yield chunk as Buffer;
  }
  if (read !== size) throw new ExportError(`Cannot read "${path}": file shrank from ${size} to ${read} bytes while exporting`);
}

/** Files up to this size are read whole, ahead of the tar writer. */
const SMALL_FILE = 256 * 1024;
/** How many entries the reads run ahead of the tar writer. */
const READ_AHEAD = 64;

type Settled = { readonly ok: true; readonly data: Buffer } | { readonly ok: false; readonly error: unknown };

/**
 * prefetchSmallFiles reads small regular files a window ahead of the writer, in order: a layer of many
 * small files is otherwise bound by one open-read-close round trip per file.
 */
async function* prefetchSmallFiles(entries: AsyncIterable<TreeEntry>): AsyncGenerator<{ entry: TreeEntry; content: Promise<Settled> | undefined }> {
  const window: { entry: TreeEntry; content: Promise<Settled> | undefined }[] = [];
  // A small file is read synchronously: four thread-pool round trips (open, fstat, read, close)
  // cost far more than the read itself.
  const read = (path: string): Promise<Settled> => {
    try {
      return Promise.resolve({ ok: true, data: readFileSync(path) });
    } catch (error) {
      return Promise.resolve({ ok: false, error });
    }
  };
  try {
    for await (const entry of entries) {
      const small = !entry.whiteout && entry.stat.isFile() && entry.stat.size > 0 && entry.stat.size <= SMALL_FILE;
      window.push({ entry, content: small ? read(entry.source) : undefined });
      if (window.length >= READ_AHEAD) yield window.shift() as { entry: TreeEntry; content: Promise<Settled> | undefined };
    }
    for (let next = window.shift(); next !== undefined; next = window.shift()) yield next;
  } finally {
    await Promise.all(window.map((w) => w.content));
  }
}

function checkedContent(path: string, size: number, content: Settled): Buffer {
  if (!content.ok) throw new ExportError(`Cannot read "${path}"`, { cause: content.error });
  if (content.data.length !== size) throw new ExportError(`Cannot read "${path}": file changed from ${size} to ${content.data.length} bytes while exporting`);
  return content.data;
}

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
    if (name.startsWith('trusted.overlay.')) continue;
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
