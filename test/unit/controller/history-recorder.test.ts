import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { HistoryRecord } from '../../../base/build-record.js';
import { createHistoryStore, openMetadataStore, type HistoryStore, type MetadataStore } from '../../../cache/index.js';
import type { BuildRequest } from '../../../controller/index.js';
import { HistoryRecorder } from '../../../controller/history-recorder.js';
import { makeTempDir } from '../../helpers/cli.js';

const REQUEST: BuildRequest = { context: { kind: 'folder', dir: '/ctx' }, dockerfile: { name: 'Dockerfile', bytes: Buffer.from('FROM busybox\n') }, outputs: [] };
const POLICY = { maxEntries: 50, maxAgeMs: 48 * 3600_000, maxBytes: 1e9 };

/** A history store whose writes are counted (each one a commit), over a real metadata database. */
function countedStore(root: string, meta: MetadataStore): { store: HistoryStore & { ensureDir(): Promise<void> }; writes: HistoryRecord['status'][] } {
  const store = createHistoryStore(root, meta);
  const writes: HistoryRecord['status'][] = [];
  return {
    writes,
    store: {
      ...store,
      ensureDir: () => store.ensureDir(),
      put: (record) => {
        writes.push(record.status);
        return store.put(record);
      },
      putAndPrune: (record, policy, now, options) => {
        writes.push(record.status);
        return store.putAndPrune(record, policy, now, options);
      },
    },
  };
}

afterEach(() => vi.useRealTimers());

describe('a build record', () => {
  it('is written once, at the end, for a build whose steps all came from the cache', async () => {
    await using tmp = await makeTempDir();
    const meta = openMetadataStore(join(tmp.path, 'meta'));
    try {
      const { store, writes } = countedStore(tmp.path, meta);
      const recorder = await HistoryRecorder.start(store, meta, { ref: 'cached', clientId: 'c', request: REQUEST });
      const progress = recorder.progress({ emit: () => undefined });
      progress.emit({ type: 'vertex.planned', vertex: 'v1', name: 'FROM busybox', time: Date.now() });
      progress.emit({ type: 'vertex.planned', vertex: 'v2', name: 'RUN true', time: Date.now() });
      progress.emit({ type: 'vertex.cached', vertex: 'v1', name: 'FROM busybox', time: Date.now() });
      progress.emit({ type: 'vertex.cached', vertex: 'v2', name: 'RUN true', time: Date.now() });
      // The export is a phase of the build, not a step of its graph: it starts at once and is no reason to write.
      progress.emit({ type: 'vertex.started', vertex: 'export', name: 'exporting layers', time: Date.now() });
      progress.emit({ type: 'vertex.completed', vertex: 'export', name: 'exporting layers', time: Date.now(), durationMs: 1 });
      expect(writes).toEqual([]);
      const { committed } = await recorder.finish({ result: { names: [], warnings: [] } }, POLICY);
      await committed;
      expect(writes).toEqual(['completed']);
      expect(meta.buildHistory.get('cached')).toMatchObject({
        status: 'completed',
        steps: [{ name: 'FROM busybox', cached: true }, { name: 'RUN true', cached: true }, { name: 'exporting layers', status: 'completed' }],
      });
    } finally {
      await meta.close();
    }
  });

  it('is written as running once a step runs, and the end follows that write', async () => {
    await using tmp = await makeTempDir();
    const meta = openMetadataStore(join(tmp.path, 'meta'));
    try {
      const { store, writes } = countedStore(tmp.path, meta);
      const recorder = await HistoryRecorder.start(store, meta, { ref: 'ran', clientId: 'c', request: REQUEST });
      const progress = recorder.progress({ emit: () => undefined });
      progress.emit({ type: 'vertex.planned', vertex: 'v1', name: 'RUN make', time: Date.now() });
      progress.emit({ type: 'vertex.planned', vertex: 'v2', name: 'RUN test', time: Date.now() });
      progress.emit({ type: 'vertex.started', vertex: 'v1', name: 'RUN make', time: Date.now() });
      expect(writes).toEqual(['running']);
      progress.emit({ type: 'vertex.started', vertex: 'v2', name: 'RUN test', time: Date.now() });
      expect(writes).toEqual(['running']);
      // The end shows at once; its commit waits for the caller's answer, then comes after the running record's.
      let answer = (): void => undefined;
      const answered = new Promise<void>((resolve) => (answer = resolve));
      const { committed } = await recorder.finish({ error: new Error('failed'), cancelled: false }, POLICY, { commitAfter: answered });
      expect(store.find('ran')?.status).toBe('failed');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(meta.buildHistory.get('ran')?.status).toBe('running');
      answer();
      await committed;
      expect(writes).toEqual(['running', 'failed']);
      expect(meta.buildHistory.get('ran')?.status).toBe('failed');
    } finally {
      await meta.close();
    }
  });

  it('is written as running a second into a build that runs no step yet (a pull, a context upload)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    await using tmp = await makeTempDir();
    const meta = openMetadataStore(join(tmp.path, 'meta'));
    try {
      const { store, writes } = countedStore(tmp.path, meta);
      const recorder = await HistoryRecorder.start(store, meta, { ref: 'slow', clientId: 'c', request: REQUEST });
      vi.advanceTimersByTime(999);
      expect(writes).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(writes).toEqual(['running']);
      recorder.progress({ emit: () => undefined }).emit({ type: 'vertex.started', vertex: 'v1', name: 'RUN make', time: Date.now() });
      expect(writes).toEqual(['running']);
      await (await recorder.finish({ result: { names: [], warnings: [] } }, POLICY)).committed;
      expect(writes).toEqual(['running', 'completed']);
    } finally {
      await meta.close();
    }
  });
});
