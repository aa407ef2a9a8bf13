import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cacheSize, collectGarbage } from '../../../controller/auto-gc.js';
import { createExecSlots, limitExecutor } from '../../../controller/exec-slots.js';
import { openStore } from '../../../controller/store.js';
import type { ExecRequest, Executor } from '../../../executor/index.js';
import { makeTempDir } from '../../helpers/cli.js';

describe('exec slots', () => {
  it('never runs more processes at once than the queue allows', async () => {
    let running = 0;
    let peak = 0;
    const inner: Executor = {
      run: async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, 10));
        running--;
        return { exitCode: 0, signal: null, durationMs: 10 };
      },
    };
    const executor = await limitExecutor(() => Promise.resolve(inner), createExecSlots(2))();
    const signal = new AbortController().signal;
    // The fake ignores the request, so an empty one is enough here.
    const request = {} as ExecRequest;
    await Promise.all(Array.from({ length: 8 }, () => executor.run(request, { signal })));
    expect(peak).toBe(2);
  });
});

const DAY = 24 * 3600 * 1000;
const signal = new AbortController().signal;
const owner = { mode: 0o755, uid: 0, gid: 0, dest: '/cache' };

describe('automatic garbage collection', () => {
  it('prunes the least recently used cache once the store outgrows its policy, and nothing before', async () => {
    await using tmp = await makeTempDir();
    await using store = await openStore(join(tmp.path, 'root'));
    const now = Date.now();
    for (const [i, size] of [1000, 2000, 3000].entries()) {
      await using active = await store.snapshotter.prepare(null);
      await writeFile(join(active.dir, 'data'), Buffer.alloc(size));
      const id = await active.commit(`layer ${i}`);
      await store.meta.cacheRecords.put(`key-${i}`, { snapshotId: id, createdAt: now, lastUsedAt: now + i, description: `step ${i}` });
    }
    expect(cacheSize(store)).toBe(6000);
    expect(await collectGarbage(store, { keepBytes: 10_000, keepDurationMs: DAY })).toBeUndefined();
    const report = await collectGarbage(store, { keepBytes: 5000, keepDurationMs: DAY });
    expect(report?.records).toBe(1);
    expect(store.meta.cacheRecords.get('key-0')).toBeUndefined();
    expect(store.meta.cacheRecords.get('key-2')).toBeDefined();
    expect(cacheSize(store)).toBe(5000);
  });

  it('weighs cache mounts by the size their last RUN left, and removes the least recently used of them too', async () => {
    await using tmp = await makeTempDir();
    await using store = await openStore(join(tmp.path, 'root'));
    {
      await using lease = await store.cacheMounts.acquire('old-mount', 'locked', owner, { signal });
      await writeFile(join(lease.dir, 'blob'), Buffer.alloc(4000));
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
    {
      await using lease = await store.cacheMounts.acquire('new-mount', 'shared', owner, { signal });
      await writeFile(join(lease.dir, 'blob'), Buffer.alloc(3000));
    }
    expect((await store.cacheMounts.infos()).map((m) => m.recordedSize).sort()).toEqual([3000, 4000]);
    expect(await collectGarbage(store, { keepBytes: 7000, keepDurationMs: DAY })).toBeUndefined();
    const report = await collectGarbage(store, { keepBytes: 5000, keepDurationMs: DAY });
    expect(report?.records).toBe(1);
    expect((await store.cacheMounts.list()).map((m) => m.id)).toEqual(['new-mount']);
  });

  it('removes cache nobody used within the keep duration, however small', async () => {
    await using tmp = await makeTempDir();
    await using store = await openStore(join(tmp.path, 'root'));
    const now = Date.now();
    for (const [i, lastUsedAt] of [now - 90 * DAY, now].entries()) {
      await using active = await store.snapshotter.prepare(null);
      await writeFile(join(active.dir, 'data'), Buffer.alloc(100));
      const id = await active.commit(`layer ${i}`);
      await store.meta.cacheRecords.put(`key-${i}`, { snapshotId: id, createdAt: lastUsedAt, lastUsedAt, description: `step ${i}` });
    }
    const report = await collectGarbage(store, { keepBytes: 1_000_000, keepDurationMs: 60 * DAY });
    expect(report?.records).toBe(1);
    expect(store.meta.cacheRecords.get('key-0')).toBeUndefined();
    expect(store.meta.cacheRecords.get('key-1')).toBeDefined();
    expect(cacheSize(store)).toBe(100);
    expect(await collectGarbage(store, { keepBytes: 1_000_000, keepDurationMs: 60 * DAY })).toBeUndefined();
  });
});
