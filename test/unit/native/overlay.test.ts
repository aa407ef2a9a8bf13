import { lstat, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  isOpaqueDir,
  isOverlayXattr,
  type LayeredEntry,
  LayeredTree,
  listLayered,
  lookupChild,
  lookupLayered,
  lsetxattr,
  makeWhiteout,
  markOpaque,
  mount,
  parseTarMarker,
  umount2,
  whiteoutTarName,
} from '../../../native/index.js';
import { makeTempDir, type TempDir } from '../../helpers/cli.js';

/** Writes a tree: a string is a file, null a whiteout, `->x` a symlink to x, an object a directory. */
type Tree = { readonly [name: string]: string | null | Tree };

async function writeTree(dir: string, tree: Tree): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [name, value] of Object.entries(tree)) {
    const path = join(dir, name);
    if (value === null) makeWhiteout(path);
    else if (typeof value === 'string' && value.startsWith('->')) await symlink(value.slice(2), path);
    else if (typeof value === 'string') await writeFile(path, value);
    else await writeTree(path, value);
  }
}

/** Describes a merged tree through listLayered, one line a path. */
async function describeLayered(dirs: readonly string[], rel = ''): Promise<string[]> {
  const lines: string[] = [];
  for (const [name, entry] of await listLayered(dirs)) {
    const path = posix.join(rel, name);
    lines.push(`${path} ${await describeEntry(entry.hostPath)}`);
    if (entry.stats.isDirectory()) lines.push(...(await describeLayered(entry.merged, path)));
  }
  return lines;
}

/** Describes a mounted tree the same way, as the kernel shows it. */
async function describeMounted(dir: string, rel = ''): Promise<string[]> {
  const lines: string[] = [];
  for (const name of (await readdir(join(dir, rel))).sort()) {
    const path = posix.join(rel, name);
    lines.push(`${path} ${await describeEntry(join(dir, path))}`);
    if ((await lstat(join(dir, path))).isDirectory()) lines.push(...(await describeMounted(dir, path)));
  }
  return lines;
}

async function describeEntry(hostPath: string): Promise<string> {
  const st = await lstat(hostPath);
  if (st.isDirectory()) return `dir ${(st.mode & 0o7777).toString(8)}`;
  if (st.isSymbolicLink()) return 'link';
  return `file ${await readFile(hostPath, 'utf8')}`;
}

describe('overlay upper-dir form', () => {
  let tmp: TempDir;
  let up: string;
  let mid: string;
  let low: string;
  beforeEach(async () => {
    tmp = await makeTempDir('tbuild-overlay-');
    up = join(tmp.path, 'up');
    mid = join(tmp.path, 'mid');
    low = join(tmp.path, 'low');
    await writeTree(low, {
      gone: 'low',
      kept: 'low',
      opq: { old: 'low', sub: { deep: 'low' } },
      dir: { a: 'low', b: 'low' },
      fileOverDir: { below: 'low' },
      dirOverFile: 'low',
      link: '->dir',
      userAttr: { shown: 'low' },
      recreated: { old: 'low' },
      stack: { bottom: 'low' },
    });
    await writeTree(mid, {
      gone: null,
      opq: { new: 'mid' },
      dir: { b: null, c: 'mid' },
      fileOverDir: 'mid',
      dirOverFile: { above: 'mid' },
      userAttr: {},
      recreated: null,
      stack: null,
    });
    await writeTree(up, { dir: { d: 'up' }, recreated: { fresh: 'up' }, stack: { top: 'up' } });
    markOpaque(join(mid, 'opq'));
    lsetxattr(join(mid, 'userAttr'), 'user.overlay.opaque', Buffer.from('y'));
  });
  afterEach(async () => {
    await tmp[Symbol.asyncDispose]();
  });

  it('hides a path below a whiteout, and shows a directory made again above it without what lay below', async () => {
    expect((await lookupLayered([up, mid, low], '/gone')).kind).toBe('missing');
    expect((await lookupLayered([up, mid, low], 'dir/b')).kind).toBe('missing');
    expect((await lookupLayered([up, mid, low], 'recreated/old')).kind).toBe('missing');
    const recreated = await lookupLayered([up, mid, low], 'recreated');
    expect(recreated).toMatchObject({ kind: 'found', hostPath: join(up, 'recreated'), merged: [join(up, 'recreated')] });
    expect([...(await listLayered([up, mid, low])).keys()]).not.toContain('gone');
    expect([...(await listLayered([join(up, 'dir'), join(mid, 'dir'), join(low, 'dir')])).keys()]).toEqual(['a', 'c', 'd']);
  });

  it('hides the lower children of an opaque directory, not the directory itself', async () => {
    expect(isOpaqueDir(join(mid, 'opq'))).toBe(true);
    const opq = await lookupLayered([up, mid, low], 'opq');
    expect(opq).toMatchObject({ kind: 'found', hostPath: join(mid, 'opq'), merged: [join(mid, 'opq')] });
    expect((await lookupLayered([up, mid, low], 'opq/old')).kind).toBe('missing');
    expect((await lookupLayered([up, mid, low], 'opq/sub/deep')).kind).toBe('missing');
    expect((await lookupLayered([up, mid, low], 'opq/new')).kind).toBe('found');
    expect(opq.kind === 'found' ? [...(await listLayered(opq.merged)).keys()] : []).toEqual(['new']);
  });

  it('takes trusted.overlay.opaque only: user.overlay.opaque is a file attribute like any other', async () => {
    expect(isOpaqueDir(join(mid, 'userAttr'))).toBe(false);
    expect((await lookupLayered([up, mid, low], 'userAttr/shown')).kind).toBe('found');
    expect(isOverlayXattr('trusted.overlay.opaque')).toBe(true);
    expect(isOverlayXattr('user.overlay.opaque')).toBe(false);
  });

  it('lets the topmost entry decide between a directory and a non-directory', async () => {
    expect(await lookupLayered([up, mid, low], 'fileOverDir/below')).toMatchObject({ kind: 'blocked', component: '/fileOverDir', hostPath: join(mid, 'fileOverDir') });
    const dir = await lookupLayered([up, mid, low], 'dirOverFile');
    expect(dir).toMatchObject({ kind: 'found', merged: [join(mid, 'dirOverFile')] });
    expect([...(await listLayered([up, mid, low])).keys()]).toContain('fileOverDir');
  });

  it('never follows symlinks: the link is the entry, and a path through it is blocked', async () => {
    const link = await lookupLayered([up, mid, low], '/link');
    expect(link.kind === 'found' && link.stats.isSymbolicLink()).toBe(true);
    expect(await lookupLayered([up, mid, low], '/link/a')).toMatchObject({ kind: 'blocked', component: '/link', hostPath: join(low, 'link') });
    expect((await lookupLayered([up, mid, low], '/dir/../link/../kept')).kind).toBe('found');
  });

  it('merges the root of the layers that exist, opaque or not; a whiteout stops a stack of directories', async () => {
    markOpaque(up);
    expect((await lookupLayered([up, mid, low], 'kept')).kind).toBe('found');
    const root = await lookupLayered([up, join(tmp.path, 'none'), low], '/');
    expect(root).toMatchObject({ kind: 'found', hostPath: up, merged: [up, low] });
    expect((await lookupLayered([up, mid, low], 'stack/bottom')).kind).toBe('missing');
    expect((await lookupLayered([up, mid, low], 'stack/top')).kind).toBe('found');
  });

  it('answers as lookupLayered from a tree that remembers each path, until told a path changed', async () => {
    const tree = new LayeredTree([up, mid, low]);
    for (const path of ['/', 'dir', 'dir/b', 'opq/old', 'opq/new', 'fileOverDir/below', 'link/a', 'stack/top', 'gone']) {
      expect(await tree.lookup(path)).toEqual(await lookupLayered([up, mid, low], path));
    }
    // Made after the tree looked: unseen until forgotten, as the executor forgets the mount points it makes.
    expect((await tree.lookup('dir/late')).kind).toBe('missing');
    await writeTree(join(up, 'dir'), { late: { inner: 'x' } });
    expect((await tree.lookup('dir/late/inner')).kind).toBe('missing');
    tree.forget('/dir/late');
    expect((await tree.lookup('dir/late/inner')).kind).toBe('found');
    expect(await tree.resolve('/link/../dir/late')).toBe(await new LayeredTree([up, mid, low]).resolve('/link/../dir/late'));
  });

  it('keeps what it found in layers that never change, and looks again in those that do', async () => {
    const paths = ['/', 'dir', 'dir/b', 'dir/underneath', 'opq/old', 'opq/new', 'fileOverDir/below', 'link/a', 'stack/top', 'gone', 'kept'];
    const fixed = new LayeredTree([up, mid, low], { fixedFrom: 1 });
    for (const path of paths) expect(await fixed.lookup(path)).toEqual(await lookupLayered([up, mid, low], path));
    // The lower layers' answers are kept for every tree of this process; the upper layer is asked each time.
    await writeTree(join(low, 'dir'), { underneath: 'added to a layer that was said never to change' });
    await writeTree(join(up, 'dir'), { above: 'written by the step' });
    const again = new LayeredTree([up, mid, low], { fixedFrom: 1 });
    expect((await again.lookup('dir/a')).kind).toBe('found');
    expect((await again.lookup('dir/b')).kind).toBe('missing');
    expect((await again.lookup('dir/above')).kind).toBe('found');
    expect((await new LayeredTree([up, mid, low]).lookup('dir/underneath')).kind).toBe('found');
    expect((await again.lookup('dir/underneath')).kind).toBe('missing');
    // Whether a kept directory is opaque is kept too.
    markOpaque(join(mid, 'dir'));
    expect((await new LayeredTree([up, mid, low]).lookup('dir/a')).kind).toBe('missing');
    expect((await new LayeredTree([up, mid, low], { fixedFrom: 1 }).lookup('dir/a')).kind).toBe('found');
  });

  it('lists a directory as looking up each of its names does', async () => {
    for (const path of ['/', 'dir', 'opq', 'stack', 'userAttr', 'dirOverFile', 'recreated']) {
      const dir = await lookupLayered([up, mid, low], path);
      const dirs = dir.kind === 'found' ? dir.merged : [];
      expect(dirs.length).toBeGreaterThan(0);
      const listed = await listLayered(dirs);
      const names = new Set((await Promise.all(dirs.map((d) => readdir(d).catch(() => [])))).flat());
      const looked = new Map<string, LayeredEntry>();
      for (const name of [...names].sort()) {
        const entry = await lookupChild(dirs, name);
        if (entry !== undefined) looked.set(name, entry);
      }
      expect([...listed].map(([n, e]) => [n, e.hostPath, e.merged])).toEqual([...looked].map(([n, e]) => [n, e.hostPath, e.merged]));
    }
  });

  it('shows what the kernel shows when it mounts the layers', async () => {
    const target = join(tmp.path, 'mnt');
    await mkdir(target);
    // The kernel does not honour the opaque mark of a layer's root either.
    markOpaque(mid);
    mount('overlay', target, 'overlay', 0, `lowerdir=${up}:${mid}:${low}`);
    try {
      expect(await describeLayered([up, mid, low])).toEqual(await describeMounted(target));
    } finally {
      umount2(target);
    }
  });

  it('names whiteouts and the opaque marker in layer tars', () => {
    expect(whiteoutTarName('x')).toBe('.wh.x');
    expect(parseTarMarker('.wh.x')).toEqual({ kind: 'whiteout', name: 'x' });
    expect(parseTarMarker('.wh..wh..opq')).toEqual({ kind: 'opaque' });
    expect(parseTarMarker('x.wh.')).toBeUndefined();
  });
});
