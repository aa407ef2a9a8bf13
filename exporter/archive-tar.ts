import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { encodeTarHeader, TAR_END, tarPadding } from '../cache/index.js';
import { ExportError } from '../base/errors.js';
import { isSpecialDestination } from '../base/fs.js';
import { outputWriteError } from './output-error.js';

/** ArchiveFile is one regular file of an output archive. */
export interface ArchiveFile {
  readonly name: string;
  readonly size: number;
  readonly content: () => AsyncIterable<Buffer> | Uint8Array;
}

/** archiveTar streams directories and files as a tar, sorted by name, owned by root, all with one mtime. */
export async function* archiveTar(
  dirs: readonly string[],
  files: readonly ArchiveFile[],
  options: { mtime: number; signal: AbortSignal },
): AsyncGenerator<Buffer> {
  const entries = [...dirs.map((name) => ({ name, file: undefined })), ...files.map((file) => ({ name: file.name, file }))];
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const common = { uid: 0, gid: 0, mtime: options.mtime };
  for (const { name, file } of entries) {
    options.signal.throwIfAborted();
    if (file === undefined) {
      yield encodeTarHeader({ ...common, name, type: 'directory', mode: 0o755, size: 0 });
      continue;
    }
    yield encodeTarHeader({ ...common, name, type: 'file', mode: 0o644, size: file.size });
    const content = file.content();
    let written = 0;
    if (content instanceof Uint8Array) {
      written = content.length;
      yield Buffer.from(content);
    } else {
      for await (const chunk of content) {
        written += chunk.length;
        yield chunk;
      }
    }
    if (written !== file.size) throw new ExportError(`Cannot archive "${name}": expected ${file.size} bytes, got ${written}`);
    yield tarPadding(file.size);
  }
  yield TAR_END;
}

/** ArchiveDest is where an archive goes: a file path or stream as a tar, or a folder holding its entries (`tar=false`). */
export type ArchiveDest = string | NodeJS.WritableStream | { readonly folder: string };

/** writeArchive writes directories and files as a tar to a file or stream, or as they are into a folder. */
export async function writeArchive(dirs: readonly string[], files: readonly ArchiveFile[], dest: ArchiveDest, options: { mtime: number; signal: AbortSignal }): Promise<void> {
  if (typeof dest === 'string' || !('folder' in dest)) {
    await writeStreamTo(archiveTar(dirs, files, options), dest, { signal: options.signal });
    return;
  }
  for (const dir of dirs) await mkdir(join(dest.folder, dir), { recursive: true });
  for (const file of files) {
    options.signal.throwIfAborted();
    const path = join(dest.folder, file.name);
    await mkdir(dirname(path), { recursive: true });
    const content = file.content();
    await pipeline(content instanceof Uint8Array ? Readable.from([Buffer.from(content)]) : Readable.from(content), createWriteStream(path), { signal: options.signal });
  }
}

/**
 * writeStreamTo writes a byte stream to a file path (atomically, through a temporary name), into a device or pipe
 * path, or to a writable stream.
 */
export async function writeStreamTo(
  source: AsyncIterable<Buffer>,
  dest: string | NodeJS.WritableStream,
  options: { signal: AbortSignal },
): Promise<void> {
  const input = Readable.from(source, { objectMode: false });
  if (typeof dest !== 'string') {
    await pipeline(input, dest, { signal: options.signal });
    return;
  }
  // A device or pipe (-o dest=/dev/null) is written into, never replaced; a file goes through a temporary name.
  const inPlace = await isSpecialDestination(dest);
  const target = inPlace ? dest : `${dest}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  // As buildx, the output's folder is made when missing (before the try: a failure here leaves nothing to remove).
  if (!inPlace) {
    await mkdir(dirname(dest), { recursive: true }).catch((err: unknown) => {
      throw outputWriteError(dest, err);
    });
  }
  try {
    await pipeline(input, createWriteStream(target, { flags: inPlace ? 'w' : 'wx' }), { signal: options.signal });
    if (!inPlace) await rename(target, dest);
  } catch (err) {
    throw outputWriteError(dest, err);
  } finally {
    if (!inPlace) await rm(target, { force: true });
  }
}
