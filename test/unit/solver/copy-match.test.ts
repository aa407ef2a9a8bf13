import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDirectoryView, createLayeredView } from '../../../cache/fs-view.js';
import type { CopyAction } from '../../../solver/graph/index.js';
import { applyCopy, type CopySource } from '../../../solver/ops/copy.js';
import { expandSource, type ExpandOptions } from '../../../solver/ops/copy-match.js';
import { makeTempDir, type TempDir } from '../../helpers/cli.js';

const signal = new AbortController().signal;
let tmp: TempDir;
let src: string;

// The context of BuildKit's own example: f.txt at each of three levels, and a sibling file.
beforeEach(async () => {
  tmp = await makeTempDir('tbuild-copy-match-');
  src = join(tmp.path, 'src');
  await mkdir(join(src, 'a', 'b', 'c'), { recursive: true });
  await writeFile(join(src, 'f.txt'), 'top');
  await writeFile(join(src, 'a', 'f.txt'), 'a');
  await writeFile(join(src, 'a', 'b', 'f.txt'), 'ab');
  await writeFile(join(src, 'a', 'b', 'g.txt'), 'g');
  await writeFile(join(src, 'a', 'b', 'c', 'f.txt'), 'abc');
});
afterEach(async () => {
  await tmp[Symbol.asyncDispose]();
});

const source = (): CopySource => ({ view: createDirectoryView(src), isExcluded: () => false, rootOwned: true });
const expand = async (pattern: string, options?: ExpandOptions): Promise<string[]> => (await expandSource(pattern, source(), options)).map((m) => m.relPath);

describe('expandSource: `**` in a COPY or ADD source', () => {
  it('is `*`: it matches one path component and never crosses a folder, as BuildKit matches with filepath.Match', async () => {
    expect(await expand('a/**/f.txt')).toEqual(['a/b/f.txt']);
    expect(await expand('**/f.txt')).toEqual(['a/f.txt']);
    expect(await expand('a/**')).toEqual(['a/b', 'a/f.txt']);
    expect(await expand('**')).toEqual(['a', 'f.txt']);
    expect(await expand('a/*/**/f.txt')).toEqual(['a/b/c/f.txt']);
    expect(await expand('a/b**')).toEqual(['a/b']);
  });

  it('spans any number of folders from the component an include pattern starts at (COPY --parents below its pivot)', async () => {
    expect(await expand('a/**/f.txt', { globstarDepth: 0 })).toEqual(['a/f.txt', 'a/b/f.txt', 'a/b/c/f.txt']);
    expect(await expand('**/f.txt', { globstarDepth: 0 })).toEqual(['f.txt', 'a/f.txt', 'a/b/f.txt', 'a/b/c/f.txt']);
    // A pivot `**` is still one component: only what follows it spans folders.
    expect(await expand('**/**/f.txt', { globstarDepth: 1 })).toEqual(['a/f.txt', 'a/b/f.txt', 'a/b/c/f.txt']);
  });
});

describe('expandSource: symlinked folders past a wildcard', () => {
  beforeEach(async () => {
    await symlink('a/b', join(src, 'l'));
    await mkdir(join(src, 'm'));
    await symlink('../a/b', join(src, 'm', 'lb'));
  });

  it('are not entered as a copy walks, but followed in the literal prefix and as the match itself', async () => {
    const copy = { walkAsCopy: true };
    expect(await expand('*/f.txt', copy)).toEqual(['a/f.txt']);
    expect(await expand('m/*/f.txt', copy)).toEqual([]);
    expect(await expand('l/*.txt', copy)).toEqual(['l/f.txt', 'l/g.txt']);
    const [link] = await expandSource('m/*', source(), copy);
    expect([link?.relPath, link?.entry.stats.isDirectory()]).toEqual(['m/lb', true]);
  });

  it('are entered for a cache key, which covers at least what the copy reads', async () => {
    expect(await expand('*/f.txt')).toEqual(['a/f.txt', 'l/f.txt']);
    expect(await expand('m/*/f.txt')).toEqual(['m/lb/f.txt']);
  });
});

describe('applyCopy with `**`', () => {
  let upper: string;
  beforeEach(async () => {
    upper = join(tmp.path, 'upper');
    await mkdir(upper);
  });
  const copy = (sources: string[], dest: string, parents: boolean): CopyAction => ({
    action: 'copy', input: 0, sources, dest, excludes: [], extractArchives: false, parents,
  });
  const run = (action: CopyAction): Promise<void> =>
    applyCopy(action, source(), { upperdir: upper, base: createLayeredView([upper]) }, { excludeMatcher: () => () => false, signal });

  it('copies only the file one folder down for `COPY a/**/f.txt /out/`, as BuildKit does', async () => {
    await run(copy(['a/**/f.txt'], '/out/', false));
    expect(await readFile(join(upper, 'out', 'f.txt'), 'utf8')).toBe('ab');
  });

  it('copies every level with --parents, where the source is an include pattern', async () => {
    await run(copy(['a/**/f.txt'], '/out/', true));
    const read = (p: string): Promise<string> => readFile(join(upper, 'out', p), 'utf8');
    expect([await read('a/f.txt'), await read('a/b/f.txt'), await read('a/b/c/f.txt')]).toEqual(['a', 'ab', 'abc']);
  });
});
