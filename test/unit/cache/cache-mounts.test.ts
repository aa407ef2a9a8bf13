import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { diskUsageRecords, prune } from '../../../cache/gc.js';
import { openStore, type Store } from '../../../controller/store.js';
import { makeTempDir } from '../../helpers/cli.js';

const OWNER = { mode: 0o755, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
const signal = new AbortController().signal;

function parts(store: Store): Parameters<typeof prune>[0] {
  return { meta: store.meta, snapshotter: store.snapshotter, content: store.content, contentRoot: join(store.root, 'content'), cacheMounts: store.cacheMounts };
}

async function useMount(store: Store, id: string, target: string, bytes: number): Promise<void> {
  await using lease = await store.cacheMounts.acquire(id, 'shared', { ...OWNER, dest: target }, { signal });
  await writeFile(join(lease.dir, 'blob'), Buffer.alloc(bytes));
}

describe('cache mount bookkeeping', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('records the size of the data and the last time a RUN mounted it, keeping the creation time', async () => {
    await using tmp = await makeTempDir();
    await using store = await openStore(join(tmp.path, 'root'));
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_000_000);
    await useMount(store, 'npm', '/root/.npm', 1234);
    vi.setSystemTime(2_000_000);
    await (await store.cacheMounts.acquire('npm', 'shared', { ...OWNER, dest: '/root/.npm' }, { signal }))[Symbol.asyncDispose]();
    const [record, ...rest] = await diskUsageRecords(parts(store));
    expect(rest).toEqual([]);
    expect(record).toMatchObject({
      type: 'exec.cachemount',
      size: 1234,
      createdAt: 1_000_000,
      lastUsedAt: 2_000_000,
      description: 'cache mount /root/.npm (id=npm)',
      inUse: false,
    });
  });

  it('shows a locked mount as in use and never removes it, even with --all', async () => {
    await using tmp = await makeTempDir();
    await using store = await openStore(join(tmp.path, 'root'));
    const lease = await store.cacheMounts.acquire('apt', 'locked', { ...OWNER, dest: '/var/cache/apt' }, { signal });
    expect((await diskUsageRecords(parts(store)))[0]?.inUse).toBe(true);
    expect((await prune(parts(store), { all: true })).records).toBe(0);
    expect(await store.cacheMounts.list()).toHaveLength(1);
    await lease[Symbol.asyncDispose]();
    expect((await diskUsageRecords(parts(store)))[0]?.inUse).toBe(false);
    expect((await prune(parts(store), { all: true })).records).toBe(1);
    expect(await store.cacheMounts.list()).toEqual([]);
  });

  it('prunes mounts by last use, together with the other records', async () => {
    await using tmp = await makeTempDir();
    await using store = await openStore(join(tmp.path, 'root'));
    const now = Date.now();
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(now - 3 * 3_600_000);
    await useMount(store, 'old', '/old', 100);
    vi.setSystemTime(now - 60_000);
    await useMount(store, 'new', '/new', 200);
    vi.setSystemTime(now);
    await using active = await store.snapshotter.prepare(null);
    await writeFile(join(active.dir, 'data'), Buffer.alloc(300));
    const id = await active.commit('layer');
    await store.meta.cacheRecords.put('key-layer', { snapshotId: id, createdAt: now, lastUsedAt: now, description: 'layer' });

    const byUntil = await prune(parts(store), { all: false, keepDurationMs: 3_600_000 });
    expect(byUntil.records).toBe(1);
    expect((await store.cacheMounts.list()).map((m) => m.id)).toEqual(['new']);

    // 500 bytes keep the layer (300, newest) and the mount (200).
    expect((await prune(parts(store), { all: false, keepBytes: 500 })).records).toBe(0);
    // 400 bytes keep only the layer: the mount is older.
    const bySize = await prune(parts(store), { all: false, keepBytes: 400 });
    expect(bySize.records).toBe(1);
    expect(await store.cacheMounts.list()).toEqual([]);
    expect(store.meta.cacheRecords.get('key-layer')).toBeDefined();
  });
});
