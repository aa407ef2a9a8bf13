import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { FileOpError } from '../../base/errors.js';
import { applyLayer, cleanEntryPath, decompress, filterThroughProcess, readTar, type TarHeader } from '../../cache/index.js';

/** ArchiveCompression is how a local ADD source is compressed, found by its first bytes. */
export type ArchiveCompression = 'gzip' | 'bzip2' | 'xz' | 'zstd' | 'none';

const HEAD_BYTES = 6;
const TAR_HEADER = 512;

/** sniffCompression reads the magic bytes of a file like Docker's DetectCompression. */
export function sniffCompression(head: Buffer): ArchiveCompression {
  if (head.length >= 3 && head[0] === 0x1f && head[1] === 0x8b && head[2] === 0x08) return 'gzip';
  if (head.length >= 3 && head.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}

async function* fileChunks(path: string): AsyncGenerator<Buffer> {
  for await (const chunk of createReadStream(path)) yield chunk as Buffer;
}

/** uncompressedStream yields the decompressed bytes of a file in any supported compression. */
export async function* uncompressedStream(path: string, signal: AbortSignal): AsyncGenerator<Buffer> {
  const handle = await open(path, 'r');
  const head = Buffer.alloc(HEAD_BYTES);
  let n: number;
  try {
    ({ bytesRead: n } = await handle.read(head, 0, HEAD_BYTES, 0));
  } finally {
    await handle.close();
  }
  const kind = sniffCompression(head.subarray(0, n));
  switch (kind) {
    case 'bzip2':
      yield* filterThroughProcess('bzip2', ['-dc'], fileChunks(path), { signal });
      return;
    case 'xz':
      yield* filterThroughProcess('xz', ['-dc'], fileChunks(path), { signal });
      return;
    case 'gzip':
    case 'zstd':
    case 'none':
      yield* decompress(fileChunks(path), { signal });
      return;
  }
}

function validTarHeader(block: Buffer): boolean {
  if (block.length < TAR_HEADER || block.every((b) => b === 0)) return false;
  const stored = Number.parseInt(block.subarray(148, 156).toString('latin1').replace(/\0.*$/s, '').trim(), 8);
  if (Number.isNaN(stored)) return false;
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < TAR_HEADER; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : (block[i] ?? 0);
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

/** isTarArchive tells whether a local file is a (possibly compressed) tar archive, by reading its first header. */
export async function isTarArchive(path: string, signal: AbortSignal): Promise<boolean> {
  let buf = Buffer.alloc(0);
  const stream = uncompressedStream(path, signal);
  try {
    for await (const chunk of stream) {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length >= TAR_HEADER) break;
    }
  } catch {
    return false;
  } finally {
    await stream.return(undefined).catch(() => undefined);
  }
  return validTarHeader(buf);
}

/**
 * extractArchive unpacks a local tar archive into an empty directory, keeping owners, modes and times; it returns
 * the directories the archive has entries for (relative, no trailing slash), as opposed to those it only implies.
 */
export async function extractArchive(path: string, dir: string, signal: AbortSignal): Promise<Set<string>> {
  const listed = new Set<string>();
  const onEntry = (header: TarHeader): void => {
    if (header.type === 'directory') listed.add(cleanEntryPath(header.name));
  };
  try {
    await applyLayer(Readable.from(uncompressedStream(path, signal)), dir, { signal, onEntry });
    return listed;
  } catch (err) {
    if (signal.aborted) throw err;
    throw new FileOpError(`Cannot extract archive "${path}"`, { cause: err });
  }
}

/**
 * newestFileTime is the latest modification time (seconds since 1970) of the regular files in a tar archive in any
 * compression, as BuildKit dates a downloaded archive; undefined when the file is no archive or holds no file.
 */
export async function newestFileTime(path: string, signal: AbortSignal): Promise<number | undefined> {
  if (!(await isTarArchive(path, signal))) return undefined;
  let newest: number | undefined;
  try {
    for await (const entry of readTar(uncompressedStream(path, signal))) {
      if (entry.header.type === 'file' && (newest === undefined || entry.header.mtime > newest)) newest = entry.header.mtime;
    }
  } catch (err) {
    if (signal.aborted) throw err;
    throw new FileOpError(`Cannot read archive "${path}"`, { cause: err });
  }
  return newest;
}
