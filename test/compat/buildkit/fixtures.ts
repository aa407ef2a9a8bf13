import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { afterAll, beforeAll, expect } from 'vitest';
import { run } from '../../helpers/cli.js';
import { ok, type BuildkitSuite } from './harness.js';

/** TarEntry is one header (and body) of a tar archive, as BuildKit's tests write them with archive/tar. */
export interface TarEntry {
  readonly name: string;
  readonly type?: 'file' | 'directory' | 'symlink' | 'link';
  readonly content?: string | Buffer;
  readonly linkname?: string;
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  /** Modification time (default: 1970-01-01). */
  readonly mtime?: Date;
}

/** makeTar returns a tar archive of the entries, in order; gzip compresses it. */
export async function makeTar(entries: readonly TarEntry[], options: { gzip?: boolean } = {}): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) {
    const header = { name: e.name, type: e.type ?? 'file', mode: e.mode ?? 0o644, uid: e.uid ?? 0, gid: e.gid ?? 0, mtime: e.mtime ?? new Date(0) };
    if (e.linkname !== undefined) Object.assign(header, { linkname: e.linkname });
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (e.content === undefined) pack.entry(header, cb);
      else pack.entry(header, e.content, cb);
    });
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks);
  return options.gzip === true ? gzipSync(raw) : raw;
}

/** TarMember is a read tar entry: its header and data (BuildKit's testutil.ReadTarToMap). */
export interface TarMember {
  readonly header: tar.Header;
  readonly data: Buffer;
}

/** readTarToMap reads a tar file (a path, or the archive's bytes) into a map of entry name → member. */
export async function readTarToMap(path: string | Buffer): Promise<Map<string, TarMember>> {
  const extract = tar.extract();
  const map = new Map<string, TarMember>();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(c as Buffer));
      stream.on('end', () => {
        map.set(header.name, { header, data: Buffer.concat(chunks) });
        next();
      });
      stream.on('error', reject);
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  extract.end(typeof path === 'string' ? await readFile(path) : path);
  await done;
  return map;
}

/** HttpResponse is what the test server answers for one path (BuildKit's httpserver.Response). */
export interface HttpResponse {
  readonly content: string | Buffer;
  readonly etag?: string;
  readonly lastModified?: Date;
  readonly contentDisposition?: string;
}

/** HttpRequestRecord is one request the server saw. */
export interface HttpRequestRecord {
  readonly method: string;
  readonly headers: IncomingHttpHeaders;
}

/** TestHttpServer serves fixed responses on loopback and records requests per path. */
export interface TestHttpServer {
  readonly url: string;
  /** set replaces the routes (path → response). */
  set(routes: Record<string, HttpResponse>): void;
  requests(path: string): readonly HttpRequestRecord[];
}

/** useHttpServer starts a loopback HTTP server (like httpserver.NewTestServer) for the suite's tests. */
export function useHttpServer(): TestHttpServer {
  let server: Server | undefined;
  let url = '';
  let routes: Record<string, HttpResponse> = {};
  const seen = new Map<string, HttpRequestRecord[]>();
  beforeAll(async () => {
    server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      seen.set(path, [...(seen.get(path) ?? []), { method: req.method ?? '', headers: req.headers }]);
      const r = routes[path];
      if (r === undefined) {
        res.writeHead(404).end();
        return;
      }
      const headers: Record<string, string> = { 'content-length': String(Buffer.byteLength(r.content)) };
      if (r.etag !== undefined) headers.etag = `"${r.etag}"`;
      if (r.lastModified !== undefined) headers['last-modified'] = r.lastModified.toUTCString();
      if (r.contentDisposition !== undefined) headers['content-disposition'] = r.contentDisposition;
      if (r.etag !== undefined && req.headers['if-none-match'] === `"${r.etag}"`) {
        res.writeHead(304, headers).end();
        return;
      }
      res.writeHead(200, headers);
      res.end(req.method === 'HEAD' ? undefined : r.content);
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  });
  return {
    get url() {
      return url;
    },
    set(r) {
      routes = { ...routes, ...r };
    },
    requests: (path) => seen.get(path) ?? [],
  };
}

/**
 * commitRepo makes dir a git repository with one commit of its files, ready for git's dumb HTTP protocol (see
 * serveDir); `date` (RFC 3339) is the commit's author and committer date.
 */
export async function commitRepo(dir: string, options: { date?: string } = {}): Promise<void> {
  const env = options.date === undefined ? [] : [`GIT_AUTHOR_DATE=${options.date}`, `GIT_COMMITTER_DATE=${options.date}`];
  for (const args of [['init', '-q'], ['config', '--local', 'user.email', 'test@example.com'], ['config', '--local', 'user.name', 'test'], ['add', '-A'], ['commit', '-q', '-m', 'msg'], ['update-server-info']]) {
    const r = await run('env', [...env, 'git', '-C', dir, ...args]);
    expect(r.code, r.stderr).toBe(0);
  }
}

/** StaticServer serves a folder's files on loopback (Go's http.FileServer, enough for git's dumb HTTP protocol). */
export interface StaticServer extends AsyncDisposable {
  readonly url: string;
}

/** serveDir starts a StaticServer for root; dispose it to stop it. */
export async function serveDir(root: string): Promise<StaticServer> {
  const server = createServer((req, res) => {
    const path = join(root, normalize(decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/')));
    stat(path).then(
      (st) => {
        if (!st.isFile()) return void res.writeHead(404).end();
        res.writeHead(200, { 'content-length': String(st.size) });
        createReadStream(path).pipe(res);
      },
      () => void res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    [Symbol.asyncDispose]: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** OciIndex is the part of an OCI index.json the ported tests read. */
export interface OciIndex {
  readonly manifests: readonly { readonly digest: string; readonly mediaType: string; readonly size: number; readonly platform?: unknown; readonly annotations?: Record<string, string> }[];
}

/**
 * unpackLayout writes the files of an OCI archive into dir, as BuildKit's tests turn an OCI exporter's tar stream into
 * a layout folder (testutil.ReadTarToMap, then one os.WriteFile per entry), and returns its index.json.
 */
export async function unpackLayout(archive: string, dir: string): Promise<OciIndex> {
  const members = await readTarToMap(archive);
  for (const [name, m] of members) {
    const full = join(dir, name);
    if (m.header.type === 'directory') await mkdir(full, { recursive: true });
    else {
      await mkdir(dirname(full), { recursive: true });
      await writeFile(full, m.data, { mode: 0o644 });
    }
  }
  return JSON.parse(members.get('index.json')?.data.toString() ?? '{}') as OciIndex;
}

/**
 * exportLayout builds a Dockerfile to an OCI archive and unpacks it into a layout folder named `name`, as BuildKit's
 * OCI layout tests make the client's OCI store; it checks the index lists one manifest and returns its digest.
 */
export async function exportLayout(suite: Pick<BuildkitSuite, 'build' | 'env'>, dockerfile: string, name: string): Promise<{ dir: string; digest: string }> {
  const res = await suite.build({ files: { Dockerfile: dockerfile }, output: 'oci' });
  ok(res);
  const dir = join(suite.env.tmp.path, name);
  const index = await unpackLayout(res.archive, dir);
  expect(index.manifests).toHaveLength(1);
  return { dir, digest: index.manifests[0]?.digest ?? '' };
}
