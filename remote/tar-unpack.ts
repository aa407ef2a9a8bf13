import { chmodSync, createWriteStream, linkSync, lutimesSync, mkdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { once } from 'node:events';
import { extract, type Header } from 'tar-stream';
import { ExportError } from '../base/errors.js';
import { isOnlyLinkTo } from '../base/fs.js';

/**
 * Entries are written with synchronous calls on the event loop's thread: a handful of syscalls per entry costs less
 * than a hop to the thread pool and back per call, and an entry's bytes arrive between them. A file over this size is
 * streamed to its file instead of held whole.
 */
const WHOLE_FILE_BYTES = 256 * 1024;

/** ByteSink is the writing side of a stream: Node's or streamx's. */
export interface ByteSink {
  write(data: Uint8Array): boolean;
  end(): unknown;
  destroy(err?: Error): unknown;
  once(event: 'drain' | 'close', listener: () => void): unknown;
  off(event: 'drain' | 'close', listener: () => void): unknown;
}

/** TarUnpacker takes a tar stream and writes its entries under a folder. */
export interface TarUnpacker {
  readonly input: ByteSink;
  /** done settles once every entry is written. */
  readonly done: Promise<void>;
}

function cleanName(name: string): string {
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) throw new ExportError(`Cannot unpack "${name}": the path leaves the destination`);
  return parts.join('/');
}

/** createTarUnpacker unpacks a tar stream into dest (created when missing), never writing through a symlink it made. */
export function createTarUnpacker(dest: string, options: { signal: AbortSignal }): TarUnpacker {
  const ex = extract();
  const symlinks = new Set<string>();
  const dirs: { path: string; mtime: Date }[] = [];
  // Take entries from the start: the extractor hands out entries only to a listener already attached.
  const entries = ex[Symbol.asyncIterator]();
  const unpack = async (): Promise<void> => {
    await mkdir(dest, { recursive: true });
    for (let r = await entries.next(); r.done !== true; r = await entries.next()) {
      const entry = r.value;
      options.signal.throwIfAborted();
      const h = entry.header;
      const rel = cleanName(h.name);
      const parts = rel.split('/');
      for (let i = 1; i < parts.length; i++) {
        if (symlinks.has(parts.slice(0, i).join('/'))) throw new ExportError(`Cannot unpack "${h.name}": a parent is a symbolic link`);
      }
      const target = rel === '' ? dest : join(dest, rel);
      if (h.type === 'symlink' && rel !== '' && isOnlyLinkTo(target, h.linkname ?? '')) {
        // The link an earlier output left: only its time is set again.
        symlinks.add(rel);
        lutimesSync(target, h.mtime, h.mtime);
        for await (const chunk of entry) void chunk;
        continue;
      }
      if (rel !== '' && h.type !== 'directory') rmSync(target, { recursive: true, force: true });
      else if (rel !== '') mkdirSync(dirname(target), { recursive: true });
      await writeEntry(h, entry, target, { dest, symlinks, rel });
      if (h.type === 'directory') dirs.push({ path: target, mtime: h.mtime });
      else if (h.type === 'file' || h.type === 'contiguous-file') applyMeta(h, target);
    }
    // Directory times last: filling a directory changes its mtime.
    for (const d of dirs.reverse()) utimesSync(d.path, d.mtime, d.mtime);
  };
  const input: ByteSink = {
    write: (d) => ex.write(d),
    end: () => ex.end(undefined),
    destroy: (e) => ex.destroy(e),
    once: (event, fn) => ex.once(event, fn),
    off: (event, fn) => ex.off(event, fn),
  };
  return { input, done: unpack() };
}

async function writeEntry(
  h: Header,
  entry: AsyncIterable<unknown>,
  target: string,
  o: { dest: string; symlinks: Set<string>; rel: string },
): Promise<void> {
  switch (h.type) {
    case 'file':
    case 'contiguous-file': {
      mkdirSync(dirname(target), { recursive: true });
      const mode = (h.mode ?? 0o644) & 0o7777;
      if ((h.size ?? 0) <= WHOLE_FILE_BYTES) writeFileSync(target, await bytesOf(entry, target), { mode });
      else await copyInto(entry, target, mode);
      return;
    }
    case 'directory':
      mkdirSync(target, { recursive: true });
      chmodSync(target, (h.mode ?? 0o755) & 0o7777);
      break;
    case 'symlink':
      mkdirSync(dirname(target), { recursive: true });
      symlinkSync(h.linkname ?? '', target);
      o.symlinks.add(o.rel);
      lutimesSync(target, h.mtime, h.mtime);
      break;
    case 'link':
      mkdirSync(dirname(target), { recursive: true });
      linkSync(join(o.dest, cleanName(h.linkname ?? '')), target);
      break;
    default:
      // Devices and fifos need privileges the local exporter skips too.
      break;
  }
  for await (const chunk of entry) void chunk;
}

/** bytesOf reads an entry's bytes whole. */
async function bytesOf(entry: AsyncIterable<unknown>, target: string): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of entry) {
    if (!(chunk instanceof Uint8Array)) throw new ExportError(`Cannot unpack "${target}": expected bytes`);
    chunks.push(chunk);
  }
  return chunks.length === 1 && chunks[0] !== undefined ? chunks[0] : Buffer.concat(chunks);
}

async function copyInto(entry: AsyncIterable<unknown>, target: string, mode: number): Promise<void> {
  const out = createWriteStream(target, { mode });
  try {
    for await (const chunk of entry) {
      if (!(chunk instanceof Uint8Array)) throw new ExportError(`Cannot unpack "${target}": expected bytes`);
      if (!out.write(chunk)) await once(out, 'drain');
    }
  } finally {
    out.end();
    await once(out, 'close');
  }
}

/** applyMeta keeps the entry's mode and time; the file belongs to the user receiving it, as BuildKit's local exporter does. */
function applyMeta(h: Header, target: string): void {
  chmodSync(target, (h.mode ?? 0o644) & 0o7777);
  if (h.mtime !== undefined) utimesSync(target, h.mtime, h.mtime);
}
