import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, ownedRootfsOutput, run, runTbuild, unpackOwnedRootfs, writeMirrorConfig, type TempDir } from '../helpers/cli.js';
import { seedBusybox, startRegistry, type TestRegistry } from '../fixtures/registry.js';

const PAYLOAD = 'downloaded over http\n';
const LAST_MODIFIED = new Date('2021-03-04T05:06:07Z');

async function sh(cmd: string, args: readonly string[], cwd?: string): Promise<string> {
  const r = await run(cmd, args, cwd === undefined ? {} : { cwd });
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

describe('Dockerfile ADD and COPY, end to end', () => {
  let registry: TestRegistry;
  let tmp: TempDir;
  let config: string;
  let http: Server;
  let httpBase: string;
  let daemon: ChildProcess;
  let gitBase: string;
  const base = (): string[] => ['--root', join(tmp.path, 'root'), '--config', config, '--progress', 'plain'];

  beforeAll(async () => {
    registry = await startRegistry();
    await seedBusybox(registry.host);
    tmp = await makeTempDir();
    config = await writeMirrorConfig(tmp.path, registry.host);
    http = createServer((req, res) => {
      if (req.url === '/files/remote.txt') {
        res.writeHead(200, { 'last-modified': LAST_MODIFIED.toUTCString(), 'content-type': 'text/plain' });
        res.end(PAYLOAD);
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    httpBase = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    // A repository with a tag and a subdirectory, served by git daemon on loopback.
    const work = join(tmp.path, 'gitwork');
    await mkdir(join(work, 'sub'), { recursive: true });
    await writeFile(join(work, 'top.txt'), 'v1\n');
    await writeFile(join(work, 'sub/inner.txt'), 'inner\n');
    const git = (...args: string[]): Promise<string> => sh('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], work);
    await git('init', '-q', '-b', 'main');
    await git('add', '.');
    await git('commit', '-q', '-m', 'one');
    await git('tag', 'v1');
    await writeFile(join(work, 'top.txt'), 'v2\n');
    await git('commit', '-q', '-am', 'two');
    const served = join(tmp.path, 'served');
    await mkdir(served);
    await sh('git', ['clone', '-q', '--bare', work, join(served, 'repo.git')]);
    const port = 20000 + (process.pid % 20000);
    daemon = spawn('git', ['daemon', '--reuseaddr', '--export-all', `--base-path=${served}`, '--listen=127.0.0.1', `--port=${port}`, served], { stdio: 'ignore' });
    gitBase = `git://127.0.0.1:${port}`;
    for (let i = 0; i < 50; i++) {
      if ((await run('git', ['ls-remote', `${gitBase}/repo.git`])).code === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  afterAll(async () => {
    daemon?.kill();
    await new Promise<void>((r) => (http ? http.close(() => r()) : r()));
    await tmp?.[Symbol.asyncDispose]();
    await registry?.stop();
  });

  async function context(name: string, dockerfile: string, files: Record<string, string> = {}): Promise<string> {
    const dir = join(tmp.path, name);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'Dockerfile'), dockerfile);
    for (const [path, text] of Object.entries(files)) {
      await mkdir(join(dir, path, '..'), { recursive: true });
      await writeFile(join(dir, path), text);
    }
    return dir;
  }

  it('ADD unpacks local tar archives of every compression, and not with --unpack=false', async () => {
    const dir = await context('archives', '', { 'arc/inner.txt': 'inner\n', 'arc/d/deep.txt': 'deep\n' });
    await sh('tar', ['-C', join(dir, 'arc'), '--owner=1234', '--group=2345', '-cf', join(dir, 'plain.tar'), '.']);
    await sh('tar', ['-C', join(dir, 'arc'), '-czf', join(dir, 'a.tgz'), '.']);
    await sh('tar', ['-C', join(dir, 'arc'), '-cjf', join(dir, 'a.tar.bz2'), '.']);
    await sh('tar', ['-C', join(dir, 'arc'), '-cJf', join(dir, 'a.tar.xz'), '.']);
    await sh('tar', ['-C', join(dir, 'arc'), '--zstd', '-cf', join(dir, 'a.tar.zst'), '.']);
    await writeFile(join(dir, 'not-a-tar.gz'), 'just text\n');
    await writeFile(
      join(dir, 'Dockerfile'),
      [
        'FROM busybox',
        'ADD plain.tar /x/plain/',
        'ADD a.tgz /x/gz',
        'ADD a.tar.bz2 /x/bz/',
        'ADD a.tar.xz /x/xz/',
        'ADD a.tar.zst /x/zst/',
        'ADD --unpack=false plain.tar /x/raw/',
        'ADD not-a-tar.gz /x/',
        'ADD --chown=7:8 a.tgz /x/owned/',
        '',
      ].join('\n'),
    );
    const out = join(tmp.path, 'archives-out');
    const res = await runTbuild(['build', ...base(), ...ownedRootfsOutput(out), dir]);
    expect(res.code, res.stderr).toBe(0);
    await unpackOwnedRootfs(out);
    for (const k of ['plain', 'gz', 'bz', 'xz', 'zst']) {
      expect(await readFile(join(out, 'x', k, 'inner.txt'), 'utf8')).toBe('inner\n');
      expect(await readFile(join(out, 'x', k, 'd/deep.txt'), 'utf8')).toBe('deep\n');
    }
    const kept = await stat(join(out, 'x/plain/inner.txt'));
    expect([kept.uid, kept.gid]).toEqual([1234, 2345]);
    const owned = await stat(join(out, 'x/owned/inner.txt'));
    expect([owned.uid, owned.gid]).toEqual([7, 8]);
    expect((await stat(join(out, 'x/raw/plain.tar'))).isFile()).toBe(true);
    expect(await readFile(join(out, 'x/not-a-tar.gz'), 'utf8')).toBe('just text\n');
  });

  it('ADD downloads URLs (checksum, Last-Modified, 0600) and checks out git repositories', async () => {
    const digest = `sha256:${createHash('sha256').update(PAYLOAD).digest('hex')}`;
    const dir = await context(
      'remote',
      [
        'FROM busybox',
        `ADD ${httpBase}/files/remote.txt /dl/`,
        `ADD --checksum=${digest} ${httpBase}/files/remote.txt /dl/renamed.txt`,
        `ADD --chmod=644 ${httpBase}/files/remote.txt /dl/public.txt`,
        `ADD ${gitBase}/repo.git /git/head/`,
        `ADD ${gitBase}/repo.git#v1 /git/v1/`,
        `ADD ${gitBase}/repo.git#main:sub /git/sub/`,
        `ADD --keep-git-dir=true ${gitBase}/repo.git#v1 /git/keep/`,
        '',
      ].join('\n'),
    );
    const out = join(tmp.path, 'remote-out');
    const res = await runTbuild(['build', ...base(), '--output', `type=local,dest=${out}`, dir]);
    expect(res.code, res.stderr).toBe(0);
    const dl = await stat(join(out, 'dl/remote.txt'));
    expect(dl.mode & 0o777).toBe(0o600);
    expect(dl.mtime.getTime()).toBe(LAST_MODIFIED.getTime());
    expect(await readFile(join(out, 'dl/renamed.txt'), 'utf8')).toBe(PAYLOAD);
    expect((await stat(join(out, 'dl/public.txt'))).mode & 0o777).toBe(0o644);
    expect(await readFile(join(out, 'git/head/top.txt'), 'utf8')).toBe('v2\n');
    expect(await readFile(join(out, 'git/v1/top.txt'), 'utf8')).toBe('v1\n');
    expect(await readdir(join(out, 'git/head'))).not.toContain('.git');
    expect(await readdir(join(out, 'git/sub'))).toEqual(['inner.txt']);
    expect(await readdir(join(out, 'git/keep'))).toContain('.git');

    const bad = await context('bad-checksum', `FROM busybox\nADD --checksum=sha256:${'0'.repeat(64)} ${httpBase}/files/remote.txt /x\n`);
    const failed = await runTbuild(['build', ...base(), '--output', `type=local,dest=${join(tmp.path, 'bad-out')}`, bad]);
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toMatch(/digest mismatch/);

    // --checksum on a git source names the commit the ref must resolve to.
    const tagLines = (await run('git', ['ls-remote', `${gitBase}/repo.git`, 'v1', 'v1^{}'])).stdout.trim().split('\n');
    const v1 = (tagLines.find((l) => l.endsWith('^{}')) ?? tagLines[0] ?? '').split('\t')[0] ?? '';
    const pinned = await context('git-checksum', `FROM busybox\nADD --checksum=${v1.slice(0, 12)} ${gitBase}/repo.git#v1 /git/\n`);
    const ok = await runTbuild(['build', ...base(), '--output', `type=local,dest=${join(tmp.path, 'pinned-out')}`, pinned]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(await readFile(join(tmp.path, 'pinned-out', 'git', 'top.txt'), 'utf8')).toBe('v1\n');
    const wrong = await context('git-wrong', `FROM busybox\nADD --checksum=0000000 ${gitBase}/repo.git#v1 /git/\n`);
    const refused = await runTbuild(['build', ...base(), '--output', `type=local,dest=${join(tmp.path, 'wrong-out')}`, wrong]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('expected checksum to match 0000000');
  });

  it('COPY --chmod symbolic, --exclude, --parents with ** and /./, globs, --from a named context', async () => {
    const dir = await context(
      'copyflags',
      [
        'FROM busybox',
        'COPY --chmod=u+x,g-r,o= a.txt /m/sym.txt',
        'COPY --chmod=750 a.txt /m/oct.txt',
        'COPY --exclude=*.md --exclude=sub/skip.txt dir /ex/',
        'COPY --exclude=b.* *.txt *.md /glob/',
        'COPY --parents dir/./sub/d.txt /pivot/',
        'COPY --parents **/*.md /par/',
        'COPY --from=extra n.txt /named/',
        'COPY --from=img /bin/busybox /named/busybox',
        '',
      ].join('\n'),
      { 'a.txt': 'a\n', 'b.txt': 'b\n', 'c.md': 'c\n', 'dir/c.txt': 'c\n', 'dir/x.md': 'x\n', 'dir/sub/d.txt': 'd\n', 'dir/sub/skip.txt': 's\n', 'dir/sub/k.md': 'k\n' },
    );
    const extra = join(tmp.path, 'extra');
    await mkdir(extra, { recursive: true });
    await writeFile(join(extra, 'n.txt'), 'named\n');
    const out = join(tmp.path, 'copyflags-out');
    const res = await runTbuild([
      'build', ...base(), '--build-context', `extra=${extra}`, '--build-context', 'img=docker-image://busybox', '--output', `type=local,dest=${out}`, dir,
    ]);
    expect(res.code, res.stderr).toBe(0);
    expect((await stat(join(out, 'm/sym.txt'))).mode & 0o7777).toBe(0o700);
    expect((await stat(join(out, 'm/oct.txt'))).mode & 0o7777).toBe(0o750);
    expect((await readdir(join(out, 'ex'))).sort()).toEqual(['c.txt', 'sub']);
    expect((await readdir(join(out, 'ex/sub'))).sort()).toEqual(['d.txt', 'k.md']);
    // BuildKit matches --exclude below each source it copies, never against a wildcard's matches: b.txt is copied.
    expect((await readdir(join(out, 'glob'))).sort()).toEqual(['a.txt', 'b.txt', 'c.md']);
    expect(await readdir(join(out, 'pivot'))).toEqual(['sub']);
    expect(await readFile(join(out, 'pivot/sub/d.txt'), 'utf8')).toBe('d\n');
    expect(await readFile(join(out, 'par/c.md'), 'utf8')).toBe('c\n');
    expect(await readFile(join(out, 'par/dir/x.md'), 'utf8')).toBe('x\n');
    expect(await readFile(join(out, 'par/dir/sub/k.md'), 'utf8')).toBe('k\n');
    expect(await readFile(join(out, 'named/n.txt'), 'utf8')).toBe('named\n');
    expect((await stat(join(out, 'named/busybox'))).isFile()).toBe(true);
  });

  it('--check prints findings with file:line and exits 1 with any, as buildx; # check=error=true fails; skip= hides rules', async () => {
    const warn = await context('check-warn', 'FROM busybox as Base\nRUN true\n');
    const res = await runTbuild(['build', ...base(), '--check', warn]);
    expect(res.code, res.stderr).toBe(1);
    expect(res.stdout).toMatch(/WARNING: FromAsCasing - https:\/\/docs.docker.com\/go\/dockerfile\/rule\/from-as-casing\/\n.*\n.*\nDockerfile:1\n/);
    expect(res.stdout).toMatch(/StageNameCasing/);
    const ignored = await runTbuild(['build', ...base(), '--call', 'check,ignorestatus=true', warn]);
    expect(ignored.code, ignored.stderr).toBe(0);
    expect(ignored.stdout).toBe(res.stdout);
    const fatal = await context('check-error', '# check=error=true\nFROM busybox as Base\n');
    expect((await runTbuild(['build', ...base(), '--check', fatal])).code).toBe(1);
    expect((await runTbuild(['build', ...base(), '--call', 'check,ignorestatus=true', fatal])).code).toBe(1);
    const skipped = await context('check-skip', '# check=skip=FromAsCasing,StageNameCasing;error=true\nFROM busybox as Base\n');
    const ok = await runTbuild(['build', ...base(), '--check', skipped]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toContain('no warnings');
    const built = await runTbuild(['build', ...base(), '--output', `type=local,dest=${join(tmp.path, 'warn-out')}`, warn]);
    expect(built.code, built.stderr).toBe(0);
    expect(built.stderr).toMatch(/FromAsCasing/);
  });

  it('--print=graph-json prints the graph without building; SOURCE_DATE_EPOCH dates the image and its history', async () => {
    const dir = await context('print', 'FROM busybox\nCOPY a.txt /a.txt\nRUN echo hi > /hi\n', { 'a.txt': 'a\n' });
    const res = await runTbuild(['build', ...base(), '--print', 'graph-json', dir]);
    expect(res.code, res.stderr).toBe(0);
    const graph = JSON.parse(res.stdout) as { root: string; vertices: { digest: string; op: { kind: string } }[] };
    expect(graph.vertices.map((v) => v.op.kind)).toEqual(expect.arrayContaining(['source', 'file', 'exec']));
    expect(graph.vertices.at(-1)?.digest).toBe(graph.root);
    const text = await runTbuild(['build', ...base(), '--print', 'graph', dir]);
    expect(text.stdout).toMatch(/sha256:[0-9a-f]{64}\s+exec\s+.*RUN echo hi/);

    const tar = join(tmp.path, 'sde.tar');
    const built = await runTbuild(['build', ...base(), '--build-arg', 'SOURCE_DATE_EPOCH=1000000000', '--output', `type=oci,dest=${tar}`, dir]);
    expect(built.code, built.stderr).toBe(0);
    const cfg = JSON.parse(await sh('skopeo', ['inspect', '--config', `oci-archive:${tar}`])) as { created: string; history: { created?: string }[] };
    expect(cfg.created).toBe('2001-09-09T01:46:40Z');
    for (const h of cfg.history) if (h.created !== undefined) expect(Date.parse(h.created)).toBeLessThanOrEqual(1e12);
  });
});
