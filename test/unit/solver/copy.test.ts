import { chmod, chown, link, lstat, mkdir, readdir, readFile, symlink, utimes, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDirectoryView, createLayeredView } from '../../../cache/fs-view.js';
import type { CopyAction } from '../../../solver/graph/index.js';
import { applyCopy, applyMkdir, type CopySource, type FileTarget } from '../../../solver/ops/copy.js';
import { makeTempDir, run, type TempDir } from '../../helpers/cli.js';
import { lgetxattr, lsetxattr } from '../../../native/index.js';

const signal = new AbortController().signal;
const options = { excludeMatcher: () => () => false, signal };
let tmp: TempDir;
let lower: string;
let upper: string;
let src: string;

beforeEach(async () => {
  tmp = await makeTempDir('tbuild-copy-');
  lower = join(tmp.path, 'lower');
  upper = join(tmp.path, 'upper');
  src = join(tmp.path, 'src');
  await mkdir(join(lower, 'srv', 'existing'), { recursive: true });
  await chmod(join(lower, 'srv', 'existing'), 0o750);
  await chown(join(lower, 'srv', 'existing'), 7, 7);
  await mkdir(upper);
  await mkdir(join(src, 'dir', 'sub'), { recursive: true });
  await writeFile(join(src, 'dir', 'f.txt'), 'f\n');
  await chmod(join(src, 'dir'), 0o700);
  await chmod(join(src, 'dir', 'sub'), 0o711);
  await chown(join(src, 'dir', 'sub'), 42, 43);
  await chown(join(src, 'dir', 'f.txt'), 42, 43);
});
afterEach(async () => {
  await tmp[Symbol.asyncDispose]();
});

const target = (): FileTarget => ({ upperdir: upper, base: createLayeredView([upper, lower]) });
const source = (rootOwned: boolean): CopySource => ({ view: createDirectoryView(src), isExcluded: () => false, rootOwned });
const copy = (sources: string[], dest: string, extra: Partial<CopyAction> = {}): CopyAction => ({
  action: 'copy', input: 0, sources, dest, excludes: [], extractArchives: false, parents: false, ...extra,
});

/** meta tells a path's kind, permission bits and owner in the upper layer. */
async function meta(path: string): Promise<string> {
  const st = await lstat(join(upper, path));
  return `${st.isDirectory() ? 'dir' : 'file'} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
}

describe('applyCopy: the destination directory', () => {
  it('keeps the owner and mode of an existing destination; what is copied takes --chown and --chmod', async () => {
    await applyCopy(copy(['dir'], '/srv/existing/', { chown: { user: '5', group: '6' }, chmod: '0640' }), source(true), target(), options);
    expect(await meta('srv/existing')).toBe('dir 750 7:7');
    expect(await meta('srv/existing/sub')).toBe('dir 640 5:6');
    expect(await meta('srv/existing/f.txt')).toBe('file 640 5:6');
  });

  it('creates a missing destination and its parents with an octal --chmod and the --chown owner', async () => {
    await applyCopy(copy(['dir'], '/new/deep', { chown: { user: '5' }, chmod: '4750' }), source(true), target(), options);
    // Set-id bits stay off directories the copy creates, as a Go mkdir of the mode leaves them.
    expect(await meta('new')).toBe('dir 750 5:5');
    expect(await meta('new/deep')).toBe('dir 750 5:5');
    expect(await meta('new/deep/sub')).toBe('dir 4750 5:5');
  });

  it('creates directories 0755 under a symbolic --chmod, and root-owned without --chown', async () => {
    await applyCopy(copy(['dir/f.txt'], '/made/here/', { chmod: 'u+x' }), source(true), target(), options);
    expect(await meta('made')).toBe('dir 755 0:0');
    expect(await meta('made/here')).toBe('dir 755 0:0');
    expect(await meta('made/here/f.txt')).toBe('file 744 0:0');
  });

  it('gives a new destination directory 0755, not the mode of the source directory', async () => {
    await applyCopy(copy(['dir'], '/fresh'), source(true), target(), options);
    expect(await meta('fresh')).toBe('dir 755 0:0');
    expect(await meta('fresh/sub')).toBe('dir 711 0:0');
  });

  it('keeps the owners of a stage, and owns the context by root', async () => {
    await applyCopy(copy(['dir'], '/stage/'), source(false), target(), options);
    expect(await meta('stage')).toBe('dir 755 0:0');
    expect(await meta('stage/sub')).toBe('dir 711 42:43');
    expect(await meta('stage/f.txt')).toBe('file 644 42:43');
    await applyCopy(copy(['dir'], '/ctx/'), source(true), target(), options);
    expect(await meta('ctx/f.txt')).toBe('file 644 0:0');
  });

  it('extracts an archive with its own modes: --chmod does not apply, --chown does', async () => {
    const tar = await run('tar', ['-C', src, '--owner=5', '--group=5', '-cf', join(src, 'a.tar'), 'dir']);
    expect(tar.code, tar.stderr).toBe(0);
    await applyCopy(copy(['a.tar'], '/x', { chmod: '0600', extractArchives: true }), source(true), target(), options);
    expect(await meta('x')).toBe('dir 755 0:0');
    expect(await meta('x/dir')).toBe('dir 700 5:5');
    expect(await meta('x/dir/sub')).toBe('dir 711 5:5');
    await applyCopy(copy(['a.tar'], '/y/', { chown: { user: '8', group: '9' }, extractArchives: true }), source(true), target(), options);
    expect(await meta('y')).toBe('dir 755 8:9');
    expect(await meta('y/dir/f.txt')).toBe('file 644 8:9');
  });
});

describe('applyCopy: several sources', () => {
  it('copies them one after the other without a trailing slash: directories merge, the last file stays', async () => {
    await mkdir(join(src, 'other'));
    await writeFile(join(src, 'other', 'o.txt'), 'o\n');
    await writeFile(join(src, 'f2.txt'), 'f2\n');
    await applyCopy(copy(['dir', 'other'], '/merged'), source(true), target(), options);
    expect((await readdir(join(upper, 'merged'))).sort()).toEqual(['f.txt', 'o.txt', 'sub']);
    await applyCopy(copy(['dir/f.txt', 'f2.txt'], '/one'), source(true), target(), options);
    expect(await readFile(join(upper, 'one'), 'utf8')).toBe('f2\n');
    // A directory after a file finds a file where its contents would go.
    await expect(applyCopy(copy(['f2.txt', 'dir'], '/clash'), source(true), target(), options)).rejects.toThrow('not a directory');
  });

  it('copies nothing for a wildcard that matches nothing, and creates no destination for it', async () => {
    await applyCopy(copy(['nomatch*'], '/empty/'), source(true), target(), options);
    await expect(lstat(join(upper, 'empty'))).rejects.toThrow('ENOENT');
    await applyCopy(copy(['dir/f.txt', 'nomatch*'], '/some/'), source(true), target(), options);
    expect(await readdir(join(upper, 'some'))).toEqual(['f.txt']);
    await expect(applyCopy(copy(['missing.txt'], '/x'), source(true), target(), options)).rejects.toThrow('not found');
  });
});

describe('applyCopy: special files', () => {
  it('copies a socket of the context as an empty file, and recreates a stage\'s fifo with --chown applied', async () => {
    const sock = join(src, 'dir', 'agent.sock');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(sock, resolve));
    try {
      await chmod(sock, 0o750);
      await run('mkfifo', ['-m', '0640', join(src, 'dir', 'pipe')]);
      await applyCopy(copy(['dir'], '/ctx/'), source(true), target(), options);
      expect(await meta('ctx/agent.sock')).toBe('file 750 0:0');
      expect((await lstat(join(upper, 'ctx/agent.sock'))).size).toBe(0);
      expect((await lstat(join(upper, 'ctx/pipe'))).isFIFO()).toBe(true);
      await applyCopy(copy(['dir/pipe'], '/stage/', { chown: { user: '5', group: '6' } }), source(false), target(), options);
      const fifo = await lstat(join(upper, 'stage/pipe'));
      expect([fifo.isFIFO(), fifo.mode & 0o7777, fifo.uid, fifo.gid]).toEqual([true, 0o640, 5, 6]);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('fails the copy, not the process, when a file vanishes while it is copied', async () => {
    const view = createDirectoryView(src);
    const gone = { hostPath: join(src, 'gone.txt'), stats: (await lstat(join(src, 'dir', 'f.txt'))) };
    const vanishing: CopySource = {
      view: { lookup: (p, o) => view.lookup(p, o), resolvePath: (p) => view.resolvePath(p), list: async (p, known) => new Map([...(await view.list(p, known)), ['gone.txt', gone]]) },
      isExcluded: () => false,
      rootOwned: true,
    };
    await expect(applyCopy(copy(['dir'], '/v/'), vanishing, target(), options)).rejects.toThrow('ENOENT');
  });
});

describe('applyCopy: file modes', () => {
  it('gives small files every mode the source has, those the umask would cut, set-id and sticky bits, and read-only ones their content', async () => {
    const modes = [0o644, 0o666, 0o777, 0o400, 0o444, 0o000, 0o4755, 0o2711, 0o1777, 0o755];
    for (const m of modes) {
      const path = join(src, `m${m.toString(8)}`);
      await writeFile(path, `mode ${m.toString(8)}\n`);
      await chown(path, 42, 43);
      await chmod(path, m);
    }
    await applyCopy(copy(modes.map((m) => `m${m.toString(8)}`), '/out/'), source(false), target(), options);
    for (const m of modes) {
      expect(await meta(`out/m${m.toString(8)}`)).toBe(`file ${m.toString(8)} 42:43`);
      expect(await readFile(join(upper, 'out', `m${m.toString(8)}`), 'utf8')).toBe(`mode ${m.toString(8)}\n`);
    }
  });

  it('applies --chown and --chmod to small files, set-id bits kept after the chown', async () => {
    await applyCopy(copy(['dir/f.txt'], '/a', { chown: { user: '5', group: '6' }, chmod: '6755' }), source(true), target(), options);
    await applyCopy(copy(['dir/f.txt'], '/b', { chmod: '0666' }), source(true), target(), options);
    expect(await meta('a')).toBe('file 6755 5:6');
    expect(await meta('b')).toBe('file 666 0:0');
  });
});

describe('applyCopy: hard links and archives', () => {
  it('keeps hard links between the files it copies', async () => {
    await link(join(src, 'dir', 'f.txt'), join(src, 'dir', 'sub', 'same.txt'));
    await applyCopy(copy(['dir'], '/linked/', { chown: { user: '5' } }), source(false), target(), options);
    const [a, b] = await Promise.all([lstat(join(upper, 'linked/f.txt')), lstat(join(upper, 'linked/sub/same.txt'))]);
    expect(b.ino).toBe(a.ino);
    expect([a.uid, a.nlink]).toEqual([5, 2]);
  });

  it('extracts through a symlink of the image where the archive only implies the directory, and replaces it where it lists it', async () => {
    await mkdir(join(lower, 'run'));
    await symlink('/run', join(lower, 'srv', 'link'));
    await mkdir(join(src, 'arc', 'srv', 'link', 'act'), { recursive: true });
    await writeFile(join(src, 'arc', 'srv', 'link', 'act', 'f'), 'f\n');
    const implied = await run('tar', ['-C', join(src, 'arc'), '--no-recursion', '-cf', join(src, 'implied.tar'), 'srv/link/act', 'srv/link/act/f']);
    const listed = await run('tar', ['-C', join(src, 'arc'), '-cf', join(src, 'listed.tar'), 'srv']);
    expect([implied.code, listed.code]).toEqual([0, 0]);
    await applyCopy(copy(['implied.tar'], '/', { extractArchives: true }), source(true), target(), options);
    expect(await readFile(join(upper, 'run/act/f'), 'utf8')).toBe('f\n');
    expect(await meta('run')).toBe('dir 755 0:0');
    await expect(lstat(join(upper, 'srv/link'))).rejects.toThrow('ENOENT');
    await applyCopy(copy(['listed.tar'], '/', { extractArchives: true }), source(true), target(), options);
    expect(await meta('srv/link')).toBe('dir 755 0:0');
    expect(await readFile(join(upper, 'srv/link/act/f'), 'utf8')).toBe('f\n');
  });
});

describe('applyCopy: extended attributes', () => {
  it('keeps them on files and folders, security.capability even under --chown, and never overlay\'s own', async () => {
    const cap = Buffer.from([1, 0, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    await writeFile(join(src, 'dir', 'big'), Buffer.alloc(1 << 20));
    lsetxattr(join(src, 'dir', 'f.txt'), 'user.origin', Buffer.from('stage'));
    lsetxattr(join(src, 'dir', 'big'), 'security.capability', cap);
    lsetxattr(join(src, 'dir', 'sub'), 'user.dir', Buffer.from('d'));
    lsetxattr(join(src, 'dir', 'sub'), 'trusted.overlay.opaque', Buffer.from('y'));
    await applyCopy(copy(['dir'], '/x/', { chown: { user: '9', group: '9' } }), source(false), target(), options);
    expect(lgetxattr(join(upper, 'x', 'f.txt'), 'user.origin')?.toString()).toBe('stage');
    expect(lgetxattr(join(upper, 'x', 'big'), 'security.capability')).toEqual(cap);
    expect(lgetxattr(join(upper, 'x', 'sub'), 'user.dir')?.toString()).toBe('d');
    expect(lgetxattr(join(upper, 'x', 'sub'), 'trusted.overlay.opaque')).toBeUndefined();
  });
});

describe('applyMkdir', () => {
  it('gives every directory it creates the owner (WORKDIR after USER)', async () => {
    await applyMkdir({ action: 'mkdir', path: '/w1/w2', mode: 0o755, makeParents: true, chown: { user: '55', group: '66' } }, target());
    expect(await meta('w1')).toBe('dir 755 55:66');
    expect(await meta('w1/w2')).toBe('dir 755 55:66');
  });

  it('dates every directory it creates at its timestamp, and leaves an existing parent as the lower layer has it', async () => {
    await utimes(join(lower, 'srv'), 1_234_567_890, 1_234_567_890);
    await applyMkdir({ action: 'mkdir', path: '/srv/a/b', mode: 0o755, makeParents: true, timestamp: 1_000_000_000 }, target());
    for (const dir of ['srv/a', 'srv/a/b']) {
      const st = await lstat(join(upper, dir));
      expect([dir, st.mtimeMs, st.atimeMs]).toEqual([dir, 1e12, 1e12]);
    }
    expect((await lstat(join(upper, 'srv'))).mtimeMs).toBe(1_234_567_890_000);
  });
});
