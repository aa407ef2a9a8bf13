import { createWriteStream } from 'node:fs';
import { chmod, mkdtemp, rm, utimes, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fetch } from 'undici';
import { ContentError, FileOpError } from '../../base/errors.js';
import { Digester, type Digest } from '../../base/digest.js';
import type { HttpSource } from '../graph/index.js';
import type { Snapshotter } from '../../cache/snapshotter.js';

/** Download is a fetched URL held in a temporary file until it becomes a snapshot. */
export interface Download extends AsyncDisposable {
  readonly digest: Digest;
  readonly file: string;
  readonly filename: string;
  /** From Last-Modified, when the server sent one. */
  readonly mtime: Date | undefined;
}

function dispositionName(header: string | null): string | undefined {
  if (header === null) return undefined;
  const m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(header);
  const name = m?.[1] === undefined ? undefined : posix.basename(decodeURIComponent(m[1]));
  return name === '' || name === '.' || name === '/' ? undefined : name;
}

function urlName(url: string): string {
  const base = posix.basename(new URL(url).pathname);
  return base === '' || base === '.' || base === '/' ? 'index' : base;
}

/** downloadHttp fetches a URL into a temporary file, digesting it; a --checksum mismatch fails. */
export async function downloadHttp(source: HttpSource, signal: AbortSignal): Promise<Download> {
  const dir = await mkdtemp(join(tmpdir(), 'tbuild-http-'));
  const dispose = (): Promise<void> => rm(dir, { recursive: true, force: true });
  try {
    const res = await fetch(source.url, { signal, redirect: 'follow' });
    if (!res.ok || res.body === null) throw new FileOpError(`Cannot download "${source.url}": HTTP status ${res.status}`);
    const digester = new Digester();
    const file = join(dir, 'data');
    const hash = new Transform({
      transform(chunk: Buffer, _enc, done) {
        digester.update(chunk);
        done(null, chunk);
      },
    });
    await pipeline(Readable.fromWeb(res.body), hash, createWriteStream(file), { signal });
    const digest = digester.digest();
    if (source.checksum !== undefined && source.checksum !== digest) {
      throw new ContentError(`Cannot use "${source.url}": digest mismatch ${digest} != ${source.checksum}`, { code: 'DIGEST_MISMATCH' });
    }
    const modified = res.headers.get('last-modified');
    const mtime = modified === null || Number.isNaN(Date.parse(modified)) ? undefined : new Date(Date.parse(modified));
    const filename = source.filename !== '' ? source.filename : (dispositionName(res.headers.get('content-disposition')) ?? urlName(source.url));
    return { digest, file, filename, mtime, [Symbol.asyncDispose]: dispose };
  } catch (err) {
    await dispose();
    if (signal.aborted || err instanceof FileOpError || err instanceof ContentError) throw err;
    throw new FileOpError(`Cannot download "${source.url}"`, { cause: err });
  }
}

/** snapshotDownload commits a download as a one-file snapshot (mode 0600, like BuildKit). */
export async function snapshotDownload(download: Download, snapshotter: Snapshotter, description: string): Promise<string> {
  await using active = await snapshotter.prepare(null);
  const path = join(active.dir, download.filename);
  await copyFile(download.file, path);
  await chmod(path, 0o600);
  if (download.mtime !== undefined) await utimes(path, download.mtime, download.mtime);
  return active.commit(description);
}
