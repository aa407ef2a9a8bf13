import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, runTbuild } from '../helpers/cli.js';
import { useBuildEnvironment } from '../helpers/build-env.js';

async function freePort(): Promise<number> {
  const server = createTcpServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

describe('contexts at a URL, as docker build takes them', () => {
  const env = useBuildEnvironment();
  let daemon: ChildProcess | undefined;
  let http: Server | undefined;
  let gitBase = '';
  let httpBase = '';
  let n = 0;

  beforeAll(async () => {
    // A repository whose tag v1 has app/Dockerfile and app/msg.txt, served by git daemon on loopback.
    const work = join(env.tmp.path, 'gitwork');
    await mkdir(join(work, 'app'), { recursive: true });
    await writeFile(join(work, 'app', 'Dockerfile'), 'FROM busybox\nCOPY msg.txt /msg.txt\n');
    await writeFile(join(work, 'app', 'Alt.Dockerfile'), 'FROM busybox\nCOPY msg.txt /alt.txt\n');
    await writeFile(join(work, 'app', 'msg.txt'), 'tagged\n');
    const git = async (...args: string[]): Promise<void> => {
      const res = await run('git', ['-C', work, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args]);
      if (res.code !== 0) throw new Error(res.stderr);
    };
    await git('init', '-q', '-b', 'main');
    await git('add', '.');
    await git('commit', '-q', '-m', 'one');
    await git('tag', 'v1');
    await writeFile(join(work, 'app', 'msg.txt'), 'newer\n');
    await git('commit', '-q', '-am', 'two');
    const served = join(env.tmp.path, 'served');
    await mkdir(served);
    const clone = await run('git', ['clone', '-q', '--bare', work, join(served, 'repo.git')]);
    expect(clone.code, clone.stderr).toBe(0);
    const port = await freePort();
    daemon = spawn('git', ['daemon', '--reuseaddr', '--export-all', `--base-path=${served}`, '--listen=127.0.0.1', `--port=${port}`, served], { stdio: 'ignore' });
    gitBase = `git://127.0.0.1:${port}`;
    for (let i = 0; i < 50 && (await run('git', ['ls-remote', `${gitBase}/repo.git`])).code !== 0; i++) await new Promise((r) => setTimeout(r, 100));
    // An HTTP server with a gzipped tar context and a bare Dockerfile.
    const ctx = join(env.tmp.path, 'tarctx');
    await mkdir(ctx);
    await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nCOPY data.txt /data.txt\n');
    await writeFile(join(ctx, 'data.txt'), 'from a tarball\n');
    const tarball = await new Promise<Buffer>((resolve, reject) => {
      const p = spawn('sh', ['-c', `tar -C ${ctx} -cf - . | gzip`], { stdio: ['ignore', 'pipe', 'inherit'] });
      const chunks: Buffer[] = [];
      p.stdout.on('data', (c: Buffer) => chunks.push(c));
      p.on('error', reject);
      p.on('close', () => resolve(Buffer.concat(chunks)));
    });
    http = createServer((req, res) => {
      if (req.url === '/ctx.tar.gz') res.writeHead(200).end(tarball);
      else if (req.url === '/Dockerfile') res.writeHead(200).end('FROM busybox\nRUN echo served > /served.txt\n');
      else res.writeHead(404).end();
    });
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    httpBase = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    daemon?.kill();
    if (http !== undefined) await new Promise<void>((r) => http?.close(() => r()));
  });

  const build = async (args: readonly string[]): Promise<{ code: number; stderr: string; out: string }> => {
    const out = join(env.tmp.path, `out-${n++}`);
    const res = await runTbuild(['build', '--root', join(env.tmp.path, 'root'), '--config', env.config, '--progress', 'plain', '--output', `type=local,dest=${out}`, ...args]);
    return { code: res.code, stderr: res.stderr, out };
  };

  it('checks out a git repository at a ref, with a subdir as the context and -f inside it', async () => {
    const tagged = await build([`${gitBase}/repo.git#v1:app`]);
    expect(tagged.code, tagged.stderr).toBe(0);
    expect(await readFile(join(tagged.out, 'msg.txt'), 'utf8')).toBe('tagged\n');
    const head = await build(['-f', 'Alt.Dockerfile', `${gitBase}/repo.git#:app`]);
    expect(head.code, head.stderr).toBe(0);
    expect(await readFile(join(head.out, 'alt.txt'), 'utf8')).toBe('newer\n');
    const missing = await build([`${gitBase}/repo.git#no-such-ref:app`]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('repository does not contain ref no-such-ref');
  });

  it('downloads an http(s) context: a tar archive, or a Dockerfile with an empty context', async () => {
    const tar = await build([`${httpBase}/ctx.tar.gz`]);
    expect(tar.code, tar.stderr).toBe(0);
    expect(await readFile(join(tar.out, 'data.txt'), 'utf8')).toBe('from a tarball\n');
    const plain = await build([`${httpBase}/Dockerfile`]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(await readFile(join(plain.out, 'served.txt'), 'utf8')).toBe('served\n');
    const gone = await build([`${httpBase}/missing.tar`]);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toContain('HTTP status 404');
  });

  it('ignores -f for a plain Dockerfile at a URL, as BuildKit does, and reports a -f missing from a tarball as an error', async () => {
    const named = await build(['-f', 'mydockerfile', `${httpBase}/Dockerfile`]);
    expect(named.code, named.stderr).toBe(0);
    expect(await readFile(join(named.out, 'served.txt'), 'utf8')).toBe('served\n');
    const outside = await build(['-f', '../elsewhere', `${httpBase}/ctx.tar.gz`]);
    expect(outside.code).toBe(2);
    expect(outside.stderr).toMatch(/^ERROR: Cannot use -f \.\.\/elsewhere/m);
  });
});
