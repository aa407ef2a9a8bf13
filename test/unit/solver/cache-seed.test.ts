import { chmod, chown, lstat, mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../../controller/store.js';
import type { CacheExecMount } from '../../../solver/graph/index.js';
import { cacheMountSeed } from '../../../solver/ops/cache-seed.js';
import { makeTempDir, run } from '../../helpers/cli.js';

const signal = new AbortController().signal;
const mount = (selector: string, input: number | null = 0): CacheExecMount => ({
  type: 'cache', id: 'c', dest: '/c', sharing: 'shared', readonly: false, mode: 0o755, uid: 0, gid: 0, input, selector,
});

describe('cacheMountSeed', () => {
  it('copies the stage directory as the merged layers show it, with the directory\'s own owner and mode', async () => {
    await using tmp = await makeTempDir();
    await using store = await openStore(join(tmp.path, 'root'));
    await using lower = await store.snapshotter.prepare(null);
    await mkdir(join(lower.dir, 'data', 'sub'), { recursive: true });
    await writeFile(join(lower.dir, 'data', 'kept.txt'), 'kept\n');
    await writeFile(join(lower.dir, 'data', 'gone.txt'), 'gone\n');
    const base = await lower.commit('lower');
    await using upper = await store.snapshotter.prepare(base);
    // The top layer's copy of the directory is what a container sees: its owner and mode.
    await mkdir(join(upper.dir, 'data'));
    await chown(join(upper.dir, 'data'), 42, 43);
    await chmod(join(upper.dir, 'data'), 0o750);
    // An overlayfs whiteout: the upper layer deletes gone.txt.
    const whiteout = await run('mknod', [join(upper.dir, 'data', 'gone.txt'), 'c', '0', '0']);
    expect(whiteout.code, whiteout.stderr).toBe(0);
    await writeFile(join(upper.dir, 'data', 'new.txt'), 'new\n');
    const top = await upper.commit('upper');

    const seed = cacheMountSeed(mount('/data'), [{ kind: 'snapshot', snapshotId: top }], store);
    if (seed === undefined) throw new Error('expected a seed for a snapshot input');
    const dir = await mkdtemp(join(tmp.path, 'fill-'));
    await seed.populate(dir, { signal });
    expect((await readdir(dir)).sort()).toEqual(['kept.txt', 'new.txt', 'sub']);
    expect(await readFile(join(dir, 'kept.txt'), 'utf8')).toBe('kept\n');
    const st = await lstat(dir);
    expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o750, 42, 43]);
    // The key names the content and the source: another snapshot or directory is another cache.
    expect(cacheMountSeed(mount('/data/sub'), [{ kind: 'snapshot', snapshotId: top }], store)?.key).not.toBe(seed.key);
    expect(cacheMountSeed(mount('/data'), [{ kind: 'snapshot', snapshotId: base }], store)?.key).not.toBe(seed.key);
  });

  it('seeds nothing from scratch or without a from input, and refuses a source that is not a directory', async () => {
    await using tmp = await makeTempDir();
    await using store = await openStore(join(tmp.path, 'root'));
    expect(cacheMountSeed(mount('/'), [{ kind: 'snapshot', snapshotId: null }], store)).toBeUndefined();
    expect(cacheMountSeed(mount('/', null), [], store)).toBeUndefined();
    const folder = join(tmp.path, 'ctx');
    await mkdir(folder);
    await writeFile(join(folder, 'file.txt'), 'x\n');
    const seed = cacheMountSeed(mount('/file.txt'), [{ kind: 'local', name: 'context', dir: folder, isExcluded: () => false }], store);
    await expect(seed?.populate(await mkdtemp(join(tmp.path, 'fill-')), { signal })).rejects.toThrow('not a directory');
  });
});
