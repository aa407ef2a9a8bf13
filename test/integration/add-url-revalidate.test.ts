import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBuildEnvironment } from '../helpers/build-env.js';
import { runTbuild } from '../helpers/cli.js';

/*
 * ADD <url> a second time asks the server whether the file changed instead of downloading it again, as BuildKit's
 * http source does (source/http/source.go): a HEAD with If-None-Match and the ETags of earlier downloads whose
 * results are cached, the ETag compared by hand since some servers ignore If-None-Match; when that finds nothing, a
 * GET with If-None-Match, where 304 (with the ETag, or bare when one was asked about) reuses the earlier download.
 * With --checksum the key is the checksum and no request is made while the result is cached. Requests name the
 * builder in User-Agent (BuildKit: buildkit/<version>).
 */
interface Served {
  body: string;
  etag: string | undefined;
  /** How HEAD is answered: normally, or refused as some servers do. */
  head: 'ok' | 'refused';
}

describe('ADD <url> revalidates an earlier download', () => {
  const env = useBuildEnvironment();
  const served = new Map<string, Served>();
  const requests: { method: string; path: string; ifNoneMatch: string | undefined; userAgent: string | undefined }[] = [];
  let http: Server;
  let base: string;

  beforeAll(async () => {
    http = createServer((req: IncomingMessage, res) => {
      const path = req.url ?? '';
      requests.push({ method: req.method ?? '', path, ifNoneMatch: req.headers['if-none-match'], userAgent: req.headers['user-agent'] });
      const file = served.get(path);
      if (file === undefined) return void res.writeHead(404).end();
      if (req.method === 'HEAD' && file.head === 'refused') return void res.writeHead(405).end();
      const headers = file.etag === undefined ? {} : { etag: file.etag };
      // A 304 without the ETag: the client must take the one it asked about.
      if (req.method === 'GET' && file.etag !== undefined && req.headers['if-none-match'] === file.etag) return void res.writeHead(304).end();
      res.writeHead(200, headers).end(req.method === 'HEAD' ? undefined : file.body);
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((r) => http.close(() => r()));
  });

  const build = async (name: string, dockerfile: string): Promise<string> => {
    const ctx = join(env.tmp.path, name);
    await mkdir(ctx, { recursive: true });
    await writeFile(join(ctx, 'Dockerfile'), dockerfile);
    const out = join(ctx, 'out');
    const r = await runTbuild(['build', '--root', join(env.tmp.path, 'root'), '--config', env.config, '--progress', 'plain', '--output', `type=local,dest=${out}`, ctx]);
    expect(r.code, r.stderr).toBe(0);
    return out;
  };
  const methods = (path: string): string[] => requests.filter((r) => r.path === path).map((r) => r.method);

  it('asks with HEAD, downloads only a changed file, and names tbuild in User-Agent', async () => {
    served.set('/a.txt', { body: 'one\n', etag: '"v1"', head: 'ok' });
    const df = `FROM busybox\nADD ${base}/a.txt /dl/\n`;
    expect(await readFile(join(await build('a1', df), 'dl/a.txt'), 'utf8')).toBe('one\n');
    await build('a2', df);
    expect(methods('/a.txt')).toEqual(['GET', 'HEAD']);
    expect(requests.find((r) => r.method === 'HEAD')?.ifNoneMatch).toBe('"v1"');
    served.set('/a.txt', { body: 'two\n', etag: 'W/"v2"', head: 'ok' });
    expect(await readFile(join(await build('a3', df), 'dl/a.txt'), 'utf8')).toBe('two\n');
    expect(methods('/a.txt')).toEqual(['GET', 'HEAD', 'HEAD', 'GET']);
    for (const r of requests) expect(r.userAgent).toMatch(/^tbuild\//);
  });

  it('takes a 304 to a GET with If-None-Match when the server refuses HEAD', async () => {
    served.set('/b.txt', { body: 'bee\n', etag: '"b1"', head: 'refused' });
    const df = `FROM busybox\nADD ${base}/b.txt /dl/\n`;
    await build('b1', df);
    expect(await readFile(join(await build('b2', df), 'dl/b.txt'), 'utf8')).toBe('bee\n');
    expect(methods('/b.txt')).toEqual(['GET', 'HEAD', 'GET']);
  });

  it('makes no request for a --checksum whose result is cached', async () => {
    served.set('/c.txt', { body: 'sea\n', etag: undefined, head: 'ok' });
    const digest = `sha256:${createHash('sha256').update('sea\n').digest('hex')}`;
    const df = `FROM busybox\nADD --checksum=${digest} ${base}/c.txt /dl/\n`;
    await build('c1', df);
    expect(await readFile(join(await build('c2', df), 'dl/c.txt'), 'utf8')).toBe('sea\n');
    expect(methods('/c.txt')).toEqual(['GET']);
  });
});
