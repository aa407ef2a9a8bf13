import { describe, expect, it } from 'vitest';
import { hostPlatform } from '../../../base/oci.js';
import type { CopyAction, ExecMount, ExecOp, FileOp } from '../../../solver/graph/index.js';
import { contentSelectors, pivotSelector } from '../../../solver/index.js';

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

describe('pivotSelector', () => {
  it('keeps the pivot of a --parents source, normalised, and marks a source without one', () => {
    expect(pivotSelector('a/./b/**')).toBe('/a/./b/**');
    expect(pivotSelector('/x//y/./z/')).toBe('/x/y/./z');
    expect(pivotSelector('b/**/f.txt')).toBe('/./b/**/f.txt');
  });
});
