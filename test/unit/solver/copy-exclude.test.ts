import { chmod, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compileExcludes } from '../../../controller/exclude-patterns.js';
import { createDirectoryView, createLayeredView } from '../../../cache/fs-view.js';
import { sourceExcludes } from '../../../frontend/convert/copy.js';
import type { CopyAction } from '../../../solver/graph/index.js';
import { applyCopy, type FileTarget } from '../../../solver/ops/copy.js';
import { makeTempDir, type TempDir } from '../../helpers/cli.js';

const options = { excludeMatcher: compileExcludes, signal: new AbortController().signal };
let tmp: TempDir;
let upper: string;
let src: string;

beforeEach(async () => {
  tmp = await makeTempDir('tbuild-copy-exclude-');
  upper = join(tmp.path, 'upper');
  src = join(tmp.path, 'src');
  await mkdir(upper);
  for (const f of ['a.txt', 'b.txt', 'dir1/x.png', 'dir1/y.txt', 'dir2/z.png', 'p/q/r.txt', 'p/q/s.md']) {
    await mkdir(join(src, f, '..'), { recursive: true });
    await writeFile(join(src, f), f);
  }
});
afterEach(async () => {
  await tmp[Symbol.asyncDispose]();
});

const target = (): FileTarget => ({ upperdir: upper, base: createLayeredView([upper, join(tmp.path, 'none')]) });
const copyEx = async (sources: string[], dest: string, excludes: string[], parents = false): Promise<void> => {
  const action: CopyAction = { action: 'copy', input: 0, sources, dest, excludes, extractArchives: false, parents };
  await applyCopy(action, { view: createDirectoryView(src), isExcluded: () => false }, target(), options);
};
const list = async (path: string): Promise<string[]> => (await readdir(join(upper, path), { recursive: true })).sort();

// BuildKit's copy matches --exclude against the path below the source it copies (tonistiigi/fsutil copier: the
// source itself has an empty path and is never matched).
describe('applyCopy --exclude', () => {
  it('never excludes what a wildcard source matches: `--exclude=b.* *.txt` copies b.txt', async () => {
    await copyEx(['*.txt'], '/glob/', ['b.*']);
    expect(await list('glob')).toEqual(['a.txt', 'b.txt']);
  });

  it('filters what lies below each matched directory, relative to it, and keeps the destination when all is excluded', async () => {
    await copyEx(['dir*'], '/png', ['*.png']);
    expect(await list('png')).toEqual(['y.txt']);
    await copyEx(['dir*'], '/none', ['*']);
    expect(await list('none')).toEqual([]);
  });

  it('matches relative to the copied directory, not the context root', async () => {
    await copyEx(['p'], '/rel/', ['q/s.md', 'p/q/r.txt']);
    expect(await list('rel')).toEqual(['q', 'q/r.txt']);
  });

  it('walks into an excluded folder for an exception, making the folders on the way only for what it copies', async () => {
    await mkdir(join(src, 'p/q/empty'));
    await chmod(join(src, 'p/q'), 0o711);
    await copyEx(['p'], '/neg/', ['q', '!q/r.txt']);
    expect(await list('neg')).toEqual(['q', 'q/r.txt']);
    expect((await stat(join(upper, 'neg/q'))).mode & 0o7777).toBe(0o711);
  });

  it('with --parents matches below the pivot (or the root), matched files included', async () => {
    await copyEx(['p/./q/*'], '/piv/', ['q/s.md'], true);
    expect(await list('piv')).toEqual(['q', 'q/r.txt']);
    await copyEx(['p/q/*'], '/root/', ['p/q/r.txt'], true);
    expect(await list('root')).toEqual(['p', 'p/q', 'p/q/s.md']);
  });
});

describe('sourceExcludes: what the context source leaves out for a COPY --exclude', () => {
  it('roots the patterns at the one source (its pivot with --parents), so the source itself stays', () => {
    expect(sourceExcludes(['dir*'], ['*', '!keep', '/x.txt'], false)).toEqual(['dir*/*', '!dir*/keep', 'dir*/x.txt']);
    expect(sourceExcludes(['.'], ['*/*.png'], false)).toEqual(['*/*.png']);
    expect(sourceExcludes(['p/./q/*'], ['q/s.md'], true)).toEqual(['p/q/s.md']);
    expect(sourceExcludes(['p/q/*'], ['x'], true)).toEqual(['x']);
  });

  it('leaves the patterns to the copy for several sources or a `**` source', () => {
    expect(sourceExcludes(['a', 'a/b'], ['*.png'], false)).toEqual([]);
    expect(sourceExcludes(['**/e'], ['*.png'], false)).toEqual([]);
    expect(sourceExcludes(['a'], [], false)).toEqual([]);
  });
});
