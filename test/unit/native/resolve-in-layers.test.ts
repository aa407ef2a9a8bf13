import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeWhiteout, resolveInLayers } from '../../../native/index.js';
import { makeTempDir, type TempDir } from '../../helpers/cli.js';

describe('resolveInLayers', () => {
  let tmp: TempDir;
  let up = '';
  let low = '';

  beforeEach(async () => {
    tmp = await makeTempDir('tbuild-resolve-');
    up = join(tmp.path, 'up');
    low = join(tmp.path, 'low');
    await mkdir(join(low, 'data/sub'), { recursive: true });
    await mkdir(join(low, 'etc'), { recursive: true });
    await writeFile(join(low, 'etc/file'), 'x');
    await symlink('/data', join(low, 'abs'));
    await symlink('../../../../data/sub', join(low, 'etc/up-and-out'));
    await symlink('loop2', join(low, 'loop1'));
    await symlink('loop1', join(low, 'loop2'));
    await mkdir(up);
    // The upper layer re-points one link and deletes another.
    await symlink('/nowhere', join(up, 'repointed'));
    await symlink('/data', join(low, 'repointed'));
    makeWhiteout(join(up, 'abs-gone'));
    await symlink('/data', join(low, 'abs-gone'));
  });
  afterEach(async () => {
    await tmp[Symbol.asyncDispose]();
  });

  it.each([
    ['/plain/missing', '/plain/missing'],
    ['/abs/x/file', '/data/x/file'],
    ['/abs', '/data'],
    // `..` stops at the root: a link cannot lead out of it.
    ['/etc/up-and-out/t', '/data/sub/t'],
    ['/repointed/m', '/nowhere/m'],
    ['/abs-gone/m', '/abs-gone/m'],
    ['/data/./sub/../sub/m', '/data/sub/m'],
  ])('resolves %s to %s inside the layered root', async (path, expected) => {
    expect(await resolveInLayers([up, low], path)).toBe(expected);
  });

  it('gives up on a loop or a file on the way', async () => {
    expect(await resolveInLayers([up, low], '/loop1/m')).toBeUndefined();
    expect(await resolveInLayers([up, low], '/etc/file/m')).toBeUndefined();
  });
});
