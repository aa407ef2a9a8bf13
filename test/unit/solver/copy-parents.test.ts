import { chmod, chown, lstat, mkdir, readdir, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDirectoryView, createLayeredView } from '../../../cache/fs-view.js';
import type { CopyAction } from '../../../solver/graph/index.js';
import { applyCopy, type FileTarget } from '../../../solver/ops/copy.js';
import { makeTempDir, type TempDir } from '../../helpers/cli.js';

const options = { excludeMatcher: () => () => false, signal: new AbortController().signal };
let tmp: TempDir;
let upper: string;
let src: string;

beforeEach(async () => {
  tmp = await makeTempDir('tbuild-copy-parents-');
  upper = join(tmp.path, 'upper');
  src = join(tmp.path, 'src');
  await mkdir(upper);
  for (const f of ['a/b/c/d/e/bay', 'a/b2/c/d/e/bar', 'a/b/c/d/foo']) {
    await mkdir(join(src, f, '..'), { recursive: true });
    await writeFile(join(src, f), f);
  }
  await chmod(join(src, 'a/b/c'), 0o710);
  await chown(join(src, 'a/b/c'), 5, 6);
});
afterEach(async () => {
  await tmp[Symbol.asyncDispose]();
});

const target = (): FileTarget => ({ upperdir: upper, base: createLayeredView([upper, join(tmp.path, 'none')]) });
const copyParents = async (sources: string[], dest: string, extra: Partial<CopyAction> = {}): Promise<void> => {
  const action: CopyAction = { action: 'copy', input: 0, sources, dest, excludes: [], extractArchives: false, parents: true, ...extra };
  await applyCopy(action, { view: createDirectoryView(src), isExcluded: () => false, ref: 'stage' }, target(), options);
};
const meta = async (path: string): Promise<string> => {
  const st = await lstat(join(upper, path));
  return `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
};

describe('applyCopy --parents', () => {
  it('keeps what lies below a wildcard pivot, each match in full', async () => {
    await copyParents(['a/b*/./c/**/e'], '/out/');
    expect((await readdir(join(upper, 'out'), { recursive: true })).sort()).toEqual(['c', 'c/d', 'c/d/e', 'c/d/e/bar', 'c/d/e/bay']);
  });

  it('makes the directories above a match from the source directories, --chown applied; the destination as a created one', async () => {
    await copyParents(['a/./b/c/d/foo'], '/out/');
    expect(await meta('out/b/c')).toBe('710 5:6');
    await copyParents(['a/./b/c/d/foo'], '/own/', { chown: { user: '7', group: '8' }, chmod: '750' });
    expect(await meta('own')).toBe('750 7:8');
    expect(await meta('own/b/c')).toBe('750 7:8');
    // An existing folder on the way keeps its owner and takes the source's permission bits, --chmod aside.
    await copyParents(['a/./b/c/d/foo'], '/own/', { chmod: '755' });
    expect(await meta('own/b/c')).toBe('710 7:8');
  });

  it('makes the destination when the pattern matches nothing, but not when the pivot does', async () => {
    await copyParents(['a/b/./c2*'], '/made/');
    expect(await readdir(join(upper, 'made'))).toEqual([]);
    await copyParents(['a/nothing*/./c'], '/not/');
    await expect(lstat(join(upper, 'not'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('copies a symlink it matches as a symlink; a copy without --parents follows it, and fails on one to nothing', async () => {
    await symlink('b/c/d/foo', join(src, 'a', 'lnk'));
    await symlink('nowhere', join(src, 'a', 'lnx'));
    await copyParents(['a/./ln*'], '/out/');
    expect(await readlink(join(upper, 'out', 'lnk'))).toBe('b/c/d/foo');
    expect(await readlink(join(upper, 'out', 'lnx'))).toBe('nowhere');
    await copyParents(['a/lnk'], '/followed', { parents: false });
    expect((await lstat(join(upper, 'followed'))).isFile()).toBe(true);
    await expect(copyParents(['a/ln*'], '/w/', { parents: false })).rejects.toThrow('failed to calculate checksum of ref stage: "/a/nowhere": not found');
    await expect(copyParents(['a/lnx'], '/w/', { parents: false })).rejects.toThrow('failed to calculate checksum of ref stage: "/a/nowhere": not found');
  });

  it('does not follow a symlinked folder below the pivot, for ** and other wildcards alike; it copies the symlink once', async () => {
    await symlink('b', join(src, 'a', 'blink'));
    await copyParents(['a/**/foo'], '/deep/');
    expect((await readdir(join(upper, 'deep'), { recursive: true })).sort()).toEqual(['a', 'a/b', 'a/b/c', 'a/b/c/d', 'a/b/c/d/foo']);
    await copyParents(['a/*/c/d/foo'], '/star/');
    expect((await readdir(join(upper, 'star', 'a'))).sort()).toEqual(['b']);
    // `a/**` matches the symlink and the folders around it: the tree is copied once, the symlink as itself.
    await copyParents(['a/**'], '/all/');
    expect(await readlink(join(upper, 'all', 'a', 'blink'))).toBe('b');
    expect((await readdir(join(upper, 'all', 'a'))).sort()).toEqual(['b', 'b2', 'blink']);
    // In the pivot, a symlink is followed; a path through one below it is not found, as BuildKit finds none.
    await copyParents(['a/blink/./c/d/foo'], '/pivot/');
    expect((await readdir(join(upper, 'pivot'), { recursive: true })).sort()).toEqual(['c', 'c/d', 'c/d/foo']);
    await expect(copyParents(['a/./blink/c/d/foo'], '/no/')).rejects.toThrow('failed to calculate checksum of ref stage: "/a/blink/c/d/foo": not found');
  });

  it('reports a missing path in BuildKit\'s words', async () => {
    await expect(copyParents(['/test/nonexistent-file'], '/out/')).rejects.toThrow('failed to calculate checksum of ref stage: "/test/nonexistent-file": not found');
  });
});
