import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CacheMountSeed } from '../../../cache/cache-mounts.js';
import { diskUsageRecords, prune } from '../../../cache/gc.js';
import { openStore, type Store } from '../../../controller/store.js';
import { makeTempDir } from '../../helpers/cli.js';

const OWNER = { mode: 0o755, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
const signal = new AbortController().signal;

function parts(store: Store): Parameters<typeof prune>[0] {
  return { meta: store.meta, snapshotter: store.snapshotter, content: store.content, cacheMounts: store.cacheMounts };
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

describe('cache mounts seeded from an input', () => {
  /** seed writes `text` into a new directory and counts how often it was asked to. */
  const seed = (key: string, text: string): CacheMountSeed & { calls: number } => {
    const s = {
      key,
      calls: 0,
      populate: async (dir: string) => {
        s.calls++;
        await writeFile(join(dir, 'seeded.txt'), text);
      },
    };
    return s;
  };
  const read = (dir: string): Promise<string> => readFile(join(dir, 'seeded.txt'), 'utf8');

  it('starts a new mount from the seed and never seeds an existing one again, whatever the sharing', async () => {
    await using tmp = await makeTempDir();
    await using store = await openStore(join(tmp.path, 'root'));
    const stage = seed('snapshot s1 /data', 'from-stage');
    {
      await using lease = await store.cacheMounts.acquire('c1', 'shared', { ...OWNER, dest: '/c', seed: stage }, { signal });
      expect(lease.created).toBe(true);
      expect(await read(lease.dir)).toBe('from-stage');
      await writeFile(join(lease.dir, 'seeded.txt'), 'changed-by-run');
    }
    for (const sharing of ['shared', 'locked', 'private'] as const) {
      await using lease = await store.cacheMounts.acquire('c1', sharing, { ...OWNER, dest: '/c', seed: stage }, { signal });
      expect(lease.created).toBe(false);
      expect(await read(lease.dir)).toBe('changed-by-run');
    }
    expect(stage.calls).toBe(1);
  });

  it('keeps a cache per seed: other content, or no seed, is another cache with the same id', async () => {
    await using tmp = await makeTempDir();
    await using store = await openStore(join(tmp.path, 'root'));
    await (await store.cacheMounts.acquire('c1', 'shared', { ...OWNER, dest: '/c', seed: seed('snapshot s1 /data', 'one') }, { signal }))[Symbol.asyncDispose]();
    await using rebuilt = await store.cacheMounts.acquire('c1', 'shared', { ...OWNER, dest: '/c', seed: seed('snapshot s2 /data', 'two') }, { signal });
    expect(await read(rebuilt.dir)).toBe('two');
    await using plain = await store.cacheMounts.acquire('c1', 'shared', { ...OWNER, dest: '/c' }, { signal });
    expect(plain.created).toBe(true);
    expect((await store.cacheMounts.list()).map((m) => m.id)).toEqual(['c1', 'c1', 'c1']);
  });

  it('seeds the throwaway copy a private mount gets while another build holds it', async () => {
    await using tmp = await makeTempDir();
    await using store = await openStore(join(tmp.path, 'root'));
    const stage = seed('snapshot s1 /data', 'from-stage');
    await using held = await store.cacheMounts.acquire('p', 'private', { ...OWNER, dest: '/p', seed: stage }, { signal });
    await writeFile(join(held.dir, 'seeded.txt'), 'in-use');
    await using other = await store.cacheMounts.acquire('p', 'private', { ...OWNER, dest: '/p', seed: stage }, { signal });
    expect(other.dir).not.toBe(held.dir);
    expect(await read(other.dir)).toBe('from-stage');
  });

  it('leaves no half-seeded mount behind when seeding fails', async () => {
    await using tmp = await makeTempDir();
    await using store = await openStore(join(tmp.path, 'root'));
    const failing: CacheMountSeed = { key: 'k', populate: () => Promise.reject(new Error('stage is gone')) };
    await expect(store.cacheMounts.acquire('f', 'shared', { ...OWNER, dest: '/f', seed: failing }, { signal })).rejects.toThrow('stage is gone');
    await using again = await store.cacheMounts.acquire('f', 'shared', { ...OWNER, dest: '/f', seed: seed('k', 'ok') }, { signal });
    expect(await read(again.dir)).toBe('ok');
  });
});
