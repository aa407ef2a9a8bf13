import { constants as fsConstants } from 'node:fs';
import { chmod, lchown, link, lstat, lutimes, mkdir, open, rm, symlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { Digester, type Digest } from '../../base/digest.js';
import { SnapshotError, TbuildError, errnoCode } from '../../base/errors.js';
import {
  isOverlayXattr,
  lsetxattr,
  makedev,
  makeWhiteout,
  markOpaque,
  mknod,
  parseTarMarker,
  S_IFCHR,
} from '../../native/index.js';
import { decompress } from './decompress.js';
import type { TarHeader } from './tar-format.js';
import { readTar, type TarEntry } from './tar-reader.js';
import { unmappedOwnerError } from '../../base/user-namespace.js';

const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;

/** ApplyResult is the uncompressed digest and size of an applied layer. */
export interface ApplyResult {
  readonly diffId: Digest;
  readonly size: number;
}

interface DirTime {
  readonly path: string;
  readonly mtime: number;
}

/** applyLayer extracts a (gzip, zstd or plain) layer tar into an empty snapshot dir in overlayfs upper-dir form. */
export async function applyLayer(
  blob: NodeJS.ReadableStream | Readable,
  dir: string,
  options: { signal: AbortSignal; mediaType?: string; onEntry?: (header: TarHeader) => void },
): Promise<ApplyResult> {
  const { signal } = options;
  signal.throwIfAborted();
  const digester = new Digester();
  async function* uncompressed(): AsyncGenerator<Buffer> {
    for await (const chunk of decompress(toBuffers(blob), { signal })) {
      digester.update(chunk);
      yield chunk;
    }
  }
  const dirTimes: DirTime[] = [];
  const known = new KnownDirs();
  try {
    for await (const entry of readTar(uncompressed())) {
      signal.throwIfAborted();
      options.onEntry?.(entry.header);
      await applyEntry(dir, entry, dirTimes, known);
    }
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    if (err instanceof TbuildError) throw err;
    throw new SnapshotError(`Cannot apply layer${options.mediaType ? ` (${options.mediaType})` : ''}`, { cause: err });
  }
  // Directory times last: creating children changes them.
  for (const { path, mtime } of dirTimes.reverse()) await lutimes(path, mtime, mtime);
  return { diffId: digester.digest(), size: digester.size };
}

async function* toBuffers(source: NodeJS.ReadableStream | Readable): AsyncGenerator<Buffer> {
  for await (const chunk of source) yield typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array);
}

/** cleanEntryPath turns a tar name into a path relative to the snapshot root ('' is the root). */
export function cleanEntryPath(name: string): string {
  const normal = posix.normalize(`/${name}`);
  // Normalising against "/" drops every ".." above the root, so compare with the raw components.
  let depth = 0;
  for (const part of name.split('/')) {
    if (part === '..') depth--;
    else if (part !== '' && part !== '.') depth++;
    if (depth < 0) throw new SnapshotError(`Cannot apply layer: entry "${name}" escapes the root`);
  }
  return normal === '/' ? '' : normal.slice(1).replace(/\/$/, '');
}

/**
 * KnownDirs holds the folders (relative paths) this apply has already checked or made: each entry's parents are checked
 * once, so a layer's cost stays linear in its entries however deep its folders nest. A folder replaced by something
 * else leaves the set with everything below it.
 */
class KnownDirs {
  readonly #dirs = new Set<string>();

  has(rel: string): boolean {
    return this.#dirs.has(rel);
  }

  add(rel: string): void {
    this.#dirs.add(rel);
  }

  forget(rel: string): void {
    if (!this.#dirs.delete(rel)) return; // nothing below an unknown folder can be known
    const prefix = `${rel}/`;
    for (const d of this.#dirs) if (d.startsWith(prefix)) this.#dirs.delete(d);
  }
}

/** resolveInside returns dir/rel after checking no component of rel's parent is a symlink or non-directory. */
async function resolveInside(dir: string, rel: string, createParents: boolean, known: KnownDirs): Promise<string> {
  const parts = rel === '' ? [] : rel.split('/');
  // Every prefix of a known folder is known: one look at the parent is enough (and keeps deep trees linear).
  const parentRel = parts.slice(0, -1).join('/');
  if (parentRel === '' || known.has(parentRel)) return parts.length === 0 ? dir : `${dir}/${rel}`;
  let current = dir;
  let currentRel = '';
  for (const part of parts.slice(0, -1)) {
    // Names are clean here (cleanEntryPath): plain joins, no normalising of an ever longer path.
    current = `${current}/${part}`;
    currentRel = currentRel === '' ? part : `${currentRel}/${part}`;
    if (known.has(currentRel)) continue;
    const st = await lstatOrUndefined(current);
    if (st === undefined && createParents) await mkdir(current, { mode: 0o755 });
    else if (st === undefined || !st.isDirectory()) {
      throw new SnapshotError(`Cannot apply layer: parent of "${rel}" is not a directory in the layer`);
    }
    known.add(currentRel);
  }
  return parts.length === 0 ? dir : `${current}/${parts[parts.length - 1] ?? ''}`;
}

async function lstatOrUndefined(path: string): Promise<Awaited<ReturnType<typeof lstat>> | undefined> {
  try {
    return await lstat(path);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

async function applyEntry(dir: string, entry: TarEntry, dirTimes: DirTime[], known: KnownDirs): Promise<void> {
  const { header } = entry;
  const rel = cleanEntryPath(header.name);
  const marker = parseTarMarker(posix.basename(rel));
  if (marker?.kind === 'opaque') {
    const parent = await resolveInside(dir, posix.dirname(rel) === '.' ? '' : posix.dirname(rel), true, known);
    if ((await lstatOrUndefined(parent)) === undefined) await mkdir(parent, { mode: 0o755 });
    markOpaque(parent);
    return;
  }
  if (marker?.kind === 'whiteout' && rel !== '') {
    if (marker.name === '' || marker.name === '.' || marker.name === '..') {
      throw new SnapshotError(
        `Cannot apply layer: whiteout entry "${header.name}" names "${marker.name}", which is not a file in its folder; the layer is malformed`,
      );
    }
    const hidden = posix.join(posix.dirname(rel), marker.name);
    const target = await resolveInside(dir, hidden, true, known);
    await rm(target, { recursive: true, force: true });
    known.forget(hidden);
    makeWhiteout(target);
    // Keep the entry's time so that applying and exporting again gives the same bytes.
    await lutimes(target, header.mtime, header.mtime);
    return;
  }
  if (rel === '' && header.type !== 'directory') throw new SnapshotError(`Cannot apply layer: root entry "${header.name}" is not a directory`);
  const target = await resolveInside(dir, rel, true, known);
  const existing = await lstatOrUndefined(target);
  if (existing !== undefined && !(existing.isDirectory() && header.type === 'directory')) {
    await rm(target, { recursive: true, force: true });
    known.forget(rel);
  }
  await createEntry(dir, target, entry, known);
  if (header.type === 'directory') known.add(rel);
  if (header.type === 'link') return; // a hard link shares its target's metadata
  await applyMetadata(target, header);
  if (header.type === 'directory') dirTimes.push({ path: target, mtime: header.mtime });
}

async function createEntry(dir: string, target: string, entry: TarEntry, known: KnownDirs): Promise<void> {
  const { header } = entry;
  const perm = header.mode & 0o7777;
  switch (header.type) {
    case 'directory':
      await mkdir(target, { mode: 0o700 }).catch((err: unknown) => {
        if (errnoCode(err) !== 'EEXIST') throw err;
      });
      return;
    case 'file':
      await writeFile(target, entry);
      return;
    case 'symlink':
      await symlink(header.linkname ?? '', target);
      return;
    case 'link': {
      const source = await resolveInside(dir, cleanEntryPath(header.linkname ?? ''), false, known);
      await link(source, target);
      return;
    }
    case 'char':
      mknod(target, S_IFCHR | perm, makedev(header.devmajor ?? 0, header.devminor ?? 0));
      return;
    case 'block':
      mknod(target, S_IFBLK | perm, makedev(header.devmajor ?? 0, header.devminor ?? 0));
      return;
    case 'fifo':
      mknod(target, S_IFIFO | perm, 0);
      return;
  }
}

async function writeFile(target: string, entry: TarEntry): Promise<void> {
  const flags = fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW;
  const fh = await open(target, flags, 0o600);
  try {
    for await (const chunk of entry.body()) {
      let offset = 0;
      while (offset < chunk.length) offset += (await fh.write(chunk, offset)).bytesWritten;
    }
  } finally {
    await fh.close();
  }
}

async function applyMetadata(target: string, header: TarHeader): Promise<void> {
  await lchown(target, header.uid, header.gid).catch((err: unknown) => {
    throw unmappedOwnerError(err, `/${cleanEntryPath(header.name)}`, header);
  });
  // chmod after chown: chown clears setuid/setgid bits.
  if (header.type !== 'symlink') await chmod(target, header.mode & 0o7777);
  for (const [name, value] of header.xattrs ?? []) {
    if (isOverlayXattr(name)) continue; // only whiteout entries may express overlay state
    lsetxattr(target, name, value);
  }
  if (header.type !== 'directory') await lutimes(target, header.mtime, header.mtime);
}
