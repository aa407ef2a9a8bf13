import { createWriteStream } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, utimes, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fetch } from 'undici';
import { ContentError, errnoCode, FileOpError } from '../../base/errors.js';
import type { HttpSourceRecord, Snapshotter } from '../../cache/index.js';
import { Digester, type Digest } from '../../base/digest.js';
import type { HttpSource } from '../graph/index.js';

/** Download is a fetched URL held in a temporary file until it becomes a snapshot. */
export interface Download extends AsyncDisposable {
  readonly digest: Digest;
  readonly file: string;
  readonly filename: string;
  /** From Last-Modified, when the server sent one. */
  readonly mtime: Date | undefined;
  /** The response's ETag, when the server sent one. */
  readonly etag: string | undefined;
}

/** HttpSeen is what an earlier download of the URL gave, found again when the server answers with its ETag. */
export type HttpSeen = HttpSourceRecord['seen'][number];

let userAgent: Promise<string> | undefined;

/** agentName names tbuild in its HTTP requests, as BuildKit sends buildkit/<version>; read once, when first needed. */
function agentName(): Promise<string> {
  return (userAgent ??= packageVersion().then((version) => `tbuild/${version}`));
}

async function packageVersion(): Promise<string> {
  let text: string;
  try {
    text = await readFile(new URL('../../package.json', import.meta.url), 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return 'unknown';
    throw err;
  }
  const pkg: unknown = JSON.parse(text);
  return typeof pkg === 'object' && pkg !== null && 'version' in pkg ? String(pkg.version) : 'unknown';
}

/** etagValue drops the weak marker, so that W/"x" and "x" compare equal, as BuildKit compares them. */
function etagValue(header: string | null): string {
  return (header ?? '').replace(/^W\//, '');
}

async function requestHeaders(seen: readonly HttpSeen[]): Promise<Record<string, string>> {
  const headers: Record<string, string> = { 'user-agent': await agentName() };
  if (seen.length > 0) headers['if-none-match'] = seen.map((s) => s.etag).join(', ');
  return headers;
}

/** matchSeen finds the earlier download a 200 or 304 answer names by its ETag (a bare 304 names the only one asked about). */
function matchSeen(status: number, etagHeader: string | null, seen: readonly HttpSeen[]): HttpSeen | undefined {
  const etag = etagValue(etagHeader);
  if (etag === '' && status === 304 && seen.length === 1) return seen[0];
  return seen.find((s) => s.etag === etag);
}

/**
 * revalidateHttp asks with HEAD whether the URL still serves what an earlier download gave, as BuildKit does before
 * downloading again (some servers honour no If-None-Match, so the ETag is compared here too).
 */
export async function revalidateHttp(source: HttpSource, seen: readonly HttpSeen[], signal: AbortSignal): Promise<HttpSeen | undefined> {
  const res = await fetch(source.url, { method: 'HEAD', signal, redirect: 'follow', headers: { ...(await requestHeaders(seen)), 'accept-encoding': 'gzip' } });
  await res.body?.cancel();
  return res.status === 200 || res.status === 304 ? matchSeen(res.status, res.headers.get('etag'), seen) : undefined;
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

/**
 * downloadHttpUnlessSeen fetches a URL into a temporary file, digesting it; a --checksum mismatch fails. With earlier
 * downloads it asks If-None-Match, and a 304 answer gives the earlier download that matches.
 */
export async function downloadHttpUnlessSeen(source: HttpSource, signal: AbortSignal, seen: readonly HttpSeen[]): Promise<Download | HttpSeen> {
  const dir = await mkdtemp(join(tmpdir(), 'tbuild-http-'));
  const dispose = (): Promise<void> => rm(dir, { recursive: true, force: true });
  try {
    const res = await fetch(source.url, { signal, redirect: 'follow', headers: await requestHeaders(seen) });
    if (res.status === 304) {
      await res.body?.cancel();
      await dispose();
      const match = matchSeen(304, res.headers.get('etag'), seen);
      if (match === undefined) throw new FileOpError(`Cannot download "${source.url}": not-modified answer with unknown ETag "${etagValue(res.headers.get('etag'))}"`);
      return match;
    }
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
    const etag = etagValue(res.headers.get('etag'));
    return { digest, file, filename, mtime, etag: etag === '' ? undefined : etag, [Symbol.asyncDispose]: dispose };
  } catch (err) {
    await dispose();
    if (signal.aborted || err instanceof FileOpError || err instanceof ContentError) throw err;
    throw new FileOpError(`Cannot download "${source.url}"`, { cause: err });
  }
}

/** downloadHttp fetches a URL into a temporary file, digesting it; a --checksum mismatch fails. */
export async function downloadHttp(source: HttpSource, signal: AbortSignal): Promise<Download> {
  const d = await downloadHttpUnlessSeen(source, signal, []);
  // Asked with no ETag, a server can only answer with the file.
  if ('file' in d) return d;
  throw new FileOpError(`Cannot download "${source.url}": not-modified answer to a plain request`);
}

/** snapshotDownload commits a download as a one-file snapshot (mode 0600, like BuildKit). */
export async function snapshotDownload(download: Download, snapshotter: Snapshotter, description: string): Promise<string> {
  await using active = await snapshotter.prepare(null);
  const path = join(active.dir, download.filename);
  await copyFile(download.file, path);
  await chmod(path, 0o600);
  if (download.mtime !== undefined) await utimes(path, download.mtime, download.mtime);
  // Awaited here: the snapshot must be committed before `await using` disposes of it on return.
  return await active.commit(description);
}
