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
    expect(await collectGarbage(store, { keepBytes: 10_000 })).toBeUndefined();
    const report = await collectGarbage(store, { keepBytes: 5000 });
    expect(report?.records).toBe(1);
    expect(store.meta.cacheRecords.get('key-0')).toBeUndefined();
    expect(store.meta.cacheRecords.get('key-2')).toBeDefined();
    expect(cacheSize(store)).toBe(5000);
  });
});
