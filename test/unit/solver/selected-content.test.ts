import { chmod, chown, mkdir, symlink, utimes, writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lsetxattr } from '../../../native/index.js';
import { createDirectoryView, createLayeredView } from '../../../cache/fs-view.js';
import { digestSelectedPaths } from '../../../solver/ops/selected-content.js';
import { makeTempDir, type TempDir } from '../../helpers/cli.js';

describe('digest of selected paths', () => {
  let tmp: TempDir;
  let dir: string;
  beforeEach(async () => {
    tmp = await makeTempDir();
    dir = join(tmp.path, 'fs');
    await mkdir(join(dir, 'out', 'sub'), { recursive: true });
    await writeFile(join(dir, 'out', 'foo'), 'foo');
    await writeFile(join(dir, 'out', 'sub', 'bar'), 'bar');
    await writeFile(join(dir, 'other'), 'other');
    await symlink('foo', join(dir, 'out', 'link'));
  });
  afterEach(async () => {
    await tmp[Symbol.asyncDispose]();
  });

  const digest = (paths: string[] = ['/out']): Promise<string> => digestSelectedPaths(createDirectoryView(dir), paths, { signal: new AbortController().signal });

  it('depends on contents, modes, owners, link targets, extended attributes and names, not on times or unselected paths', async () => {
    const before = await digest();
    await utimes(join(dir, 'out', 'foo'), 1000, 1000);
    await writeFile(join(dir, 'other'), 'changed');
    expect(await digest()).toBe(before);
    const changes: (() => Promise<void>)[] = [
      () => writeFile(join(dir, 'out', 'foo'), 'FOO'),
      () => chmod(join(dir, 'out', 'foo'), 0o600),
      () => chown(join(dir, 'out', 'sub', 'bar'), 1000, 1000),
      async () => {
        await rm(join(dir, 'out', 'link'));
        await symlink('sub', join(dir, 'out', 'link'));
      },
      () => writeFile(join(dir, 'out', 'new'), ''),
      () => Promise.resolve(lsetxattr(join(dir, 'out', 'foo'), 'user.note', Buffer.from('x'))),
    ];
    const seen = new Set([before]);
    for (const change of changes) {
      await change();
      const now = await digest();
      expect(seen.has(now)).toBe(false);
      seen.add(now);
    }
  });

  it('tells the selection apart: other paths, a missing path, wildcards', async () => {
    const out = await digest(['/out']);
    expect(await digest(['/out/sub'])).not.toBe(out);
    expect(await digest(['/missing'])).not.toBe(await digest(['/missing2']));
    const wild = await digest(['/out/*']);
    await writeFile(join(dir, 'out', 'sub', 'bar'), 'BAR');
    expect(await digest(['/out/*'])).not.toBe(wild);
  });

  it('expands `**` as the copy does: one folder for a plain source, any number below a --parents pivot', async () => {
    await mkdir(join(dir, 'out', 'sub', 'deep'));
    await writeFile(join(dir, 'out', 'sub', 'deep', 'bar'), 'deep');
    const plain = await digest(['/out/**/bar']);
    const parents = await digest(['/out/./**/bar']);
    await writeFile(join(dir, 'out', 'sub', 'deep', 'bar'), 'DEEP');
    expect(await digest(['/out/**/bar'])).toBe(plain);
    expect(await digest(['/out/./**/bar'])).not.toBe(parents);
  });

  it('reads layers merged, as the step sees them', async () => {
    const upper = join(tmp.path, 'upper');
    await mkdir(join(upper, 'out'), { recursive: true });
    await writeFile(join(upper, 'out', 'foo'), 'FOO');
    const merged = await digestSelectedPaths(createLayeredView([upper, dir]), ['/out'], { signal: new AbortController().signal });
    await writeFile(join(dir, 'out', 'foo'), 'FOO');
    expect(merged).toBe(await digest());
  });
});
