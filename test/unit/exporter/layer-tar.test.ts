import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { link, lstat, mkdir, mkdtemp, readFile, readlink, readdir, rm, symlink, utimes, lutimes, writeFile, chmod, chown } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { digestOf } from '../../../base/digest.js';
import { applyLayer, encodeTarHeader, readTar, TAR_END, tarPadding } from '../../../cache/layer/index.js';
import { createLocalContentStore } from '../../../cache/content-store.js';
import { createLayerTar, createMemoryLayerBlobCache, getLayerBlob, parallelGzip } from '../../../exporter/layer/index.js';
import { lgetxattr, lsetxattr, makedev, mknod, S_IFCHR } from '../../../native/index.js';


const signal = new AbortController().signal;
let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'tbuild-layer-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function collect(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

const LONG = `${'deep/'.repeat(25)}file-with-a-long-name-ü.txt`;

/** makeSnapshot writes an upper-dir-form snapshot with every kind of entry. */
async function makeSnapshot(dir: string): Promise<void> {
  await mkdir(join(dir, 'etc'), { recursive: true });
  await writeFile(join(dir, 'etc', 'hosts'), 'hosts\n');
  await writeFile(join(dir, 'suid'), 'x');
  await chown(join(dir, 'suid'), 1000, 1001);
  await chmod(join(dir, 'suid'), 0o4755);
  await mkdir(join(dir, 'tmp'));
  await chmod(join(dir, 'tmp'), 0o1777);
  await link(join(dir, 'etc', 'hosts'), join(dir, 'hardlink'));
  await symlink('/etc/hosts', join(dir, 'sym'));
  await lutimes(join(dir, 'sym'), 1000, 1000);
  execFileSync('mkfifo', [join(dir, 'fifo')]);
  mknod(join(dir, 'null'), S_IFCHR | 0o666, makedev(1, 3));
  mknod(join(dir, 'gone'), S_IFCHR, makedev(0, 0));
  await mkdir(join(dir, 'opq'));
  lsetxattr(join(dir, 'opq'), 'trusted.overlay.opaque', Buffer.from('y'));
  await writeFile(join(dir, 'opq', 'kept'), 'kept');
  lsetxattr(join(dir, 'etc', 'hosts'), 'user.comment', Buffer.from([0xff, 0x00, 0x80]));
  await mkdir(join(dir, LONG, '..'), { recursive: true });
  await writeFile(join(dir, LONG), randomBytes(3000));
  for (const p of ['etc/hosts', 'suid', 'fifo', 'null', 'gone', 'opq/kept', LONG]) await utimes(join(dir, p), 2000, 1_700_000_000);
  for (const p of ['etc', 'tmp', 'opq', 'deep', '.']) await utimes(join(dir, p), 2000, 1_700_000_000);
}

interface Described {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  extra: string;
}

async function describeTree(dir: string, rel = ''): Promise<Map<string, Described>> {
  const out = new Map<string, Described>();
  for (const name of (await readdir(join(dir, rel))).sort()) {
    const path = rel === '' ? name : `${rel}/${name}`;
    const abs = join(dir, path);
    const st = await lstat(abs);
    const type = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : st.isFIFO() ? 'fifo' : st.isCharacterDevice() ? 'char' : 'other';
    let extra = '';
    if (st.isFile()) extra = `${digestOf(await readFile(abs))} nlink=${st.nlink} x=${lgetxattr(abs, 'user.comment')?.toString('hex') ?? ''}`;
    if (st.isSymbolicLink()) extra = await readlink(abs);
    if (st.isCharacterDevice()) extra = String(st.rdev);
    if (st.isDirectory()) extra = lgetxattr(abs, 'trusted.overlay.opaque')?.toString() ?? '';
    out.set(path, { type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000), extra });
    if (st.isDirectory()) for (const [k, v] of await describeTree(dir, path)) out.set(k, v);
  }
  return out;
}

describe('createLayerTar and applyLayer', () => {
  it('round-trips whiteouts, opaque dirs, links, devices, modes and xattrs', async () => {
    const src = join(root, 'src');
    const dst = join(root, 'dst');
    await mkdir(src);
    await mkdir(dst);
    await makeSnapshot(src);
    const tar = await collect(createLayerTar(src, { signal }));
    const names: string[] = [];
    for await (const entry of readTar(Readable.from([tar]))) names.push(entry.header.name);
    expect(names).toContain('.wh.gone');
    expect(names).toContain('opq/.wh..wh..opq');
    expect(names.indexOf('opq/')).toBeLessThan(names.indexOf('opq/.wh..wh..opq'));
    expect(names).toEqual([...names].sort((a, b) => (a.replace(/\/$/, '') < b.replace(/\/$/, '') ? -1 : 1)));
    // GNU tar must read it too (PAX long name, xattrs).
    const listed = execFileSync('tar', ['-tf', '-'], { input: tar }).toString();
    expect(listed).toContain(LONG);

    const result = await applyLayer(Readable.from([tar]), dst, { signal });
    expect(result.diffId).toBe(digestOf(tar));
    expect(result.size).toBe(tar.length);
    const [a, b] = [await describeTree(src), await describeTree(dst)];
    expect(b).toEqual(a);
    expect(b.get('gone')).toMatchObject({ type: 'char', extra: '0' });
    expect(b.get('opq')?.extra).toBe('y');
    expect(b.get('suid')).toMatchObject({ mode: 0o4755, uid: 1000, gid: 1001 });
  });

  it('produces the same bytes twice and clamps mtimes to sourceDateEpoch', async () => {
    await makeSnapshot(root);
    const first = await collect(createLayerTar(root, { signal }));
    const second = await collect(createLayerTar(root, { signal }));
    expect(second.equals(first)).toBe(true);
    const epoch = 1_600_000_000;
    const clamped = await collect(createLayerTar(root, { signal, sourceDateEpoch: epoch }));
    let count = 0;
    for await (const entry of readTar(Readable.from([clamped]))) {
      expect(entry.header.mtime).toBeLessThanOrEqual(epoch);
      count++;
    }
    expect(count).toBeGreaterThan(10);
  });

  it('stores identical gzip and zstd blobs for identical input, which apply back', async () => {
    const snap = join(root, 'snap');
    await mkdir(snap);
    await makeSnapshot(snap);
    await writeFile(join(snap, 'big'), Buffer.concat([randomBytes(1_500_000), Buffer.alloc(2_000_000, 'a')]));
    const store = createLocalContentStore(join(root, 'store'));
    for (const compression of ['gzip', 'zstd', 'uncompressed'] as const) {
      const one = await getLayerBlob({ id: `a-${compression}`, dir: snap }, { compression, store, cache: createMemoryLayerBlobCache(), signal, sourceDateEpoch: 5 });
      const two = await getLayerBlob({ id: `b-${compression}`, dir: snap }, { compression, store, cache: createMemoryLayerBlobCache(), signal, sourceDateEpoch: 5 });
      expect(two).toEqual(one);
      const out = join(root, `out-${compression}`);
      await mkdir(out);
      const applied = await applyLayer(store.readBlob(one.descriptor.digest), out, { signal });
      expect(applied.diffId).toBe(one.diffId);
      expect((await readFile(join(out, 'big'))).equals(await readFile(join(snap, 'big')))).toBe(true);
    }
  });

  it('writes a multi-member gzip stream that gzip -d reads', async () => {
    const input = Buffer.concat([randomBytes(2_500_000), Buffer.alloc(1_000_000, 'z')]);
    const gz = await collect(parallelGzip(Readable.from([input.subarray(0, 7), input.subarray(7)]), { level: 6, signal }));
    expect(execFileSync('gzip', ['-dc'], { input: gz, maxBuffer: 1 << 26 }).equals(input)).toBe(true);
    const empty = await collect(parallelGzip(Readable.from([]), { level: 6, signal }));
    expect(execFileSync('gzip', ['-dc'], { input: empty }).length).toBe(0);
  });
});

describe('applyLayer path safety', () => {
  function tarOf(entries: { name: string; type: 'file' | 'symlink' | 'link' | 'directory'; linkname?: string; body?: string }[]): Buffer {
    const parts: Buffer[] = [];
    for (const e of entries) {
      const body = Buffer.from(e.body ?? '');
      parts.push(encodeTarHeader({ name: e.name, type: e.type, mode: 0o644, uid: 0, gid: 0, size: body.length, mtime: 0, ...(e.linkname ? { linkname: e.linkname } : {}) }));
      parts.push(body, tarPadding(body.length));
    }
    parts.push(TAR_END);
    return Buffer.concat(parts);
  }

  it('never writes through a symlink in the layer', async () => {
    const outside = join(root, 'outside');
    const dst = join(root, 'dst');
    await mkdir(outside);
    await mkdir(dst);
    const evil = tarOf([
      { name: 'a', type: 'symlink', linkname: outside },
      { name: 'a/passwd', type: 'file', body: 'pwned' },
    ]);
    await expect(applyLayer(Readable.from([evil]), dst, { signal })).rejects.toThrow(/not a directory/);
    expect(await readdir(outside)).toEqual([]);
  });

  it('rejects entries and hard links that escape the root', async () => {
    const dst = join(root, 'dst');
    await mkdir(dst);
    await expect(applyLayer(Readable.from([tarOf([{ name: '../escape', type: 'file', body: 'x' }])]), dst, { signal })).rejects.toThrow(/escapes/);
    await expect(
      applyLayer(Readable.from([tarOf([{ name: 'h', type: 'link', linkname: '../../../etc/passwd' }])]), dst, { signal }),
    ).rejects.toThrow(/escapes/);
    expect(await readdir(root)).toEqual(['dst']);
    // An absolute name is taken relative to the root.
    await applyLayer(Readable.from([tarOf([{ name: '/abs/file', type: 'file', body: 'ok' }])]), dst, { signal });
    expect(await readFile(join(dst, 'abs', 'file'), 'utf8')).toBe('ok');
  });

  it('never writes through a folder that a later entry replaced by a symlink', async () => {
    const outside = join(root, 'outside');
    const dst = join(root, 'dst');
    await mkdir(outside);
    await mkdir(dst);
    const evil = tarOf([
      { name: 'a/', type: 'directory' },
      { name: 'a/b/ok', type: 'file', body: 'fine' },
      { name: 'a', type: 'symlink', linkname: outside },
      { name: 'a/passwd', type: 'file', body: 'pwned' },
    ]);
    await expect(applyLayer(Readable.from([evil]), dst, { signal })).rejects.toThrow(/not a directory/);
    expect(await readdir(outside)).toEqual([]);
  });

  it('applies a tree nested 1,500 folders deep', async () => {
    const dst = join(root, 'dst');
    await mkdir(dst);
    const names = Array.from({ length: 1500 }, (_, i) => `${'d/'.repeat(i + 1)}`);
    const tar = tarOf([...names.map((name) => ({ name, type: 'directory' as const })), { name: `${names.at(-1) ?? ''}leaf`, type: 'file', body: 'deep' }]);
    await applyLayer(Readable.from([tar]), dst, { signal });
    expect(await readFile(join(dst, names.at(-1) ?? '', 'leaf'), 'utf8')).toBe('deep');
  });

  it.each([
    ['a/.wh...', '..'],
    ['a/.wh..', '.'],
    ['a/.wh.', ''],
    ['.wh...', '..'],
  ])('refuses the whiteout %s, naming the entry and why', async (name, named) => {
    const dst = join(root, 'dst');
    await mkdir(join(dst, 'a', 'keep'), { recursive: true });
    const tar = tarOf([{ name, type: 'file' }]);
    await expect(applyLayer(Readable.from([tar]), dst, { signal })).rejects.toThrow(
      `Cannot apply layer: whiteout entry "${name}" names "${named}", which is not a file in its folder`,
    );
    expect(await readdir(join(dst, 'a'))).toEqual(['keep']);
  });
});

/** bytes returns `size` deterministic, incompressible-looking bytes. */
function bytes(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  let s = seed >>> 0;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

/** makeFixture writes a snapshot whose layer tar crosses output chunk boundaries in every way. */
async function makeFixture(dir: string): Promise<void> {
  const files: [string, number][] = [
    ['a/empty', 0],
    ['a/one', 1],
    ['a/block', 512],
    ['a/odd', 513],
    ['b/near-chunk', 1024 * 1024 - 700],
    ['b/over-chunk', 1024 * 1024 + 3],
    ['b/big', 3 * 1024 * 1024 + 77],
    ['c/small-after-big', 100],
    [`${'long/'.repeat(30)}name-ü.txt`, 2000],
  ];
  let seed = 1;
  for (const [rel, size] of files) {
    await mkdir(join(dir, rel, '..'), { recursive: true });
    await writeFile(join(dir, rel), bytes(size, seed++));
  }
  for (let i = 0; i < 300; i++) await writeFile(join(dir, 'c', `f${String(i).padStart(3, '0')}`), bytes(3000 + i * 7, seed++));
  await link(join(dir, 'a/odd'), join(dir, 'c/hardlink'));
  await symlink('../a/one', join(dir, 'c/sym'));
  await chown(join(dir, 'a/one'), 1000, 1001);
  await chmod(join(dir, 'a/one'), 0o4755);
  lsetxattr(join(dir, 'a/block'), 'user.note', Buffer.from([0xff, 0x00, 0x61]));
  await mkdir(join(dir, 'opq'));
  lsetxattr(join(dir, 'opq'), 'trusted.overlay.opaque', Buffer.from('y'));
  await writeFile(join(dir, 'opq', 'kept'), 'kept');
  mknod(join(dir, 'c', 'gone'), S_IFCHR, makedev(0, 0));
  mknod(join(dir, 'null'), S_IFCHR | 0o666, makedev(1, 3));
  await lutimes(join(dir, 'c/sym'), 1000, 1_600_000_000);
  const times = async (rel: string, seconds: number): Promise<void> => utimes(join(dir, rel), seconds, seconds);
  for (const [rel] of files) await times(rel, 1_700_000_000);
  for (let i = 0; i < 300; i++) await times(`c/f${String(i).padStart(3, '0')}`, 1_700_000_000 + i);
  for (const rel of ['opq/kept', 'c/gone', 'null']) await times(rel, 1_700_000_100);
  // Children before parents: setting a time inside a directory does not change the directory's.
  const dirs = ['a', 'b', 'c', 'opq', ...Array.from({ length: 30 }, (_, i) => 'long/'.repeat(30 - i))];
  for (const rel of dirs) await times(rel, 1_700_000_200);
}

async function digestOfTar(dir: string, sourceDateEpoch?: number): Promise<string> {
  const parts: Buffer[] = [];
  const options = sourceDateEpoch === undefined ? { signal } : { signal, sourceDateEpoch };
  for await (const chunk of createLayerTar(dir, options)) parts.push(chunk as Buffer);
  return digestOf(Buffer.concat(parts));
}

describe('layer tar bytes', () => {
  // Pinned: a change here changes every image digest tbuild has made.
  it('stay the same for the same snapshot', async () => {
    await makeFixture(root);
    expect(await digestOfTar(root)).toBe('sha256:680a514105947b6e18d08e815bfc132dff1bd5c5408fc92380340a5fc427ebbf');
    expect(await digestOfTar(root, 1_650_000_000)).toBe('sha256:4410dfda330056d96d99d87ded3b231d9a7e9851030a28087379fedc4a5d386d');
  });
});
