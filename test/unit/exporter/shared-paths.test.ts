import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExportError } from '../../../base/errors.js';
import { SharedPaths, writeLocalDir, writeRootfsTars } from '../../../exporter/lazy.js';
import { makeTempDir, type TempDir } from '../../helpers/cli.js';
import { readTarToMap } from '../../compat/buildkit/fixtures.js';

describe('outputs several platforms fill together (platform-split=false)', () => {
  let tmp: TempDir;
  const signal = new AbortController().signal;
  /** platformFs makes a filesystem of one layer holding a shared folder and the given files. */
  const platformFs = async (name: string, files: Record<string, string>): Promise<{ dir: string }[]> => {
    const dir = join(tmp.path, name);
    await mkdir(join(dir, 'shared'), { recursive: true });
    for (const [path, text] of Object.entries(files)) await writeFile(join(dir, path), text);
    return [{ dir }];
  };

  beforeEach(async () => {
    tmp = await makeTempDir();
  });
  afterEach(async () => {
    await tmp[Symbol.asyncDispose]();
  });

  it('shares folders but refuses a file of one platform where another platform wrote one', () => {
    const paths = new SharedPaths();
    expect(paths.claim('shared', 'linux/amd64', true)).toBe(true);
    expect(paths.claim('shared', 'linux/arm64', true)).toBe(false);
    expect(paths.claim('foo_amd64', 'linux/amd64', false)).toBe(true);
    expect(paths.claim('foo_arm64', 'linux/arm64', false)).toBe(true);
    expect(() => paths.claim('foo_amd64', 'linux/arm64', false)).toThrow(ExportError);
    expect(() => paths.claim('foo_amd64', 'linux/arm64', false)).toThrow('cannot overwrite foo_amd64 from linux/amd64 with linux/arm64 when split option is disabled');
  });

  it('writes every platform at the root of a folder and of a tar, each folder once', async () => {
    const amd64 = await platformFs('amd64', { foo_amd64: 'a', 'shared/x': 'x' });
    const arm64 = await platformFs('arm64', { foo_arm64: 'b' });
    const dest = join(tmp.path, 'out');
    const paths = new SharedPaths();
    await writeLocalDir(amd64, dest, { signal, shared: { paths, platform: 'linux/amd64' } });
    await writeLocalDir(arm64, dest, { signal, shared: { paths, platform: 'linux/arm64' } });
    expect([await readFile(join(dest, 'foo_amd64'), 'utf8'), await readFile(join(dest, 'foo_arm64'), 'utf8'), await readFile(join(dest, 'shared/x'), 'utf8')]).toEqual(['a', 'b', 'x']);

    const tar = join(tmp.path, 'out.tar');
    await writeRootfsTars([{ platform: 'linux/amd64', folder: '', layers: amd64 }, { platform: 'linux/arm64', folder: '', layers: arm64 }], tar, { signal });
    const entries = await readTarToMap(tar);
    expect([...entries.keys()].sort()).toEqual(['foo_amd64', 'foo_arm64', 'shared/', 'shared/x']);
  });

  it('fails where the platforms write the same file', async () => {
    const amd64 = await platformFs('amd64', { foo: 'a' });
    const arm64 = await platformFs('arm64', { foo: 'b' });
    const tar = join(tmp.path, 'clash.tar');
    await expect(writeRootfsTars([{ platform: 'linux/amd64', folder: '', layers: amd64 }, { platform: 'linux/arm64', folder: '', layers: arm64 }], tar, { signal })).rejects.toThrow(
      'cannot overwrite foo from linux/amd64 with linux/arm64 when split option is disabled',
    );
    const paths = new SharedPaths();
    const dest = join(tmp.path, 'clash');
    await writeLocalDir(amd64, dest, { signal, shared: { paths, platform: 'linux/amd64' } });
    await expect(writeLocalDir(arm64, dest, { signal, shared: { paths, platform: 'linux/arm64' } })).rejects.toThrow(ExportError);
    expect(await readFile(join(dest, 'foo'), 'utf8')).toBe('a');
  });
});
