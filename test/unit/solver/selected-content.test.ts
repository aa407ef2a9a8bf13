import { chmod, chown, mkdir, symlink, utimes, writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hostPlatform } from '../../../base/oci.js';
import { lsetxattr } from '../../../native/index.js';
import { createDirectoryView, createLayeredView } from '../../../cache/fs-view.js';
import type { CopyAction, ExecMount, ExecOp, FileOp } from '../../../solver/graph/index.js';
import { contentSelectors, digestSelectedPaths } from '../../../solver/ops/selected-content.js';
import { makeTempDir, type TempDir } from '../../helpers/cli.js';

const platform = hostPlatform();

function copy(input: number, sources: string[]): CopyAction {
  return { action: 'copy', input, sources, dest: '/', excludes: [], extractArchives: false, parents: false };
}

function fileOp(base: number | null, actions: FileOp['actions']): FileOp {
  return { kind: 'file', base, actions, platform };
}

function execOp(mounts: ExecMount[]): ExecOp {
  return { kind: 'exec', meta: { args: ['true'], env: [], cwd: '/', user: '' }, mounts, network: 'default', security: 'sandbox', platform };
}

/** contentSelections lists the selectors of each input of an op. */
function contentSelections(op: ExecOp | FileOp, inputCount: number): (readonly string[] | undefined)[] {
  return Array.from({ length: inputCount }, (_, i) => contentSelectors(op, i));
}

const root: ExecMount = { type: 'bind', input: 0, dest: '/', output: 0, readonly: false };

describe('content selections', () => {
  it('selects the sources of a copy, never the input it copies onto', () => {
    expect(contentSelections(fileOp(0, [copy(1, ['out/', 'b', '/a/./c']), copy(2, ['*.txt'])]), 3)).toEqual([undefined, ['/a/c', '/b', '/out'], ['/*.txt']]);
    expect(contentSelections(fileOp(0, [copy(0, ['x'])]), 1)).toEqual([undefined]);
    expect(contentSelections(fileOp(null, [copy(0, ['x'])]), 1)).toEqual([['/x']]);
  });

  it('keeps the pivot of a --parents source, below which `**` spans folders', () => {
    const parents = { ...copy(1, ['a/./b/**/f', 'c/**']), parents: true };
    expect(contentSelections(fileOp(0, [parents]), 2)).toEqual([undefined, ['/./c/**', '/a/./b/**/f']]);
  });

  it('selects read-only mounts and mounts whose changes are dropped, never the root filesystem', () => {
    const op = execOp([
      root,
      { type: 'bind', input: 1, dest: '/src', output: null, readonly: true, selector: 'app' },
      { type: 'bind', input: 2, dest: '/rw', output: null, readonly: false },
      { type: 'bind', input: 3, dest: '/kept', output: 1, readonly: false, selector: 'sub' },
      { type: 'bind', input: 4, dest: '/whole', output: 2, readonly: false },
    ]);
    expect(contentSelections(op, 5)).toEqual([undefined, ['/app'], ['/'], undefined, ['/']]);
  });

  it('keys by definition an input that is also the root, seeds a cache mount, or is named like a pattern', () => {
    const cache: ExecMount = { type: 'cache', input: 1, dest: '/c', id: 'c', sharing: 'shared', readonly: false, mode: 0o755, uid: 0, gid: 0 };
    const op = execOp([
      root,
      { type: 'bind', input: 0, dest: '/again', output: null, readonly: true },
      cache,
      { type: 'bind', input: 1, dest: '/m', output: null, readonly: true },
      { type: 'bind', input: 2, dest: '/p', output: null, readonly: true, selector: 'a*' },
    ]);
    expect(contentSelections(op, 3)).toEqual([undefined, undefined, undefined]);
  });
});

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
