import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HistoryRecord } from '../../../base/build-record.js';
import { digestOf } from '../../../base/digest.js';
import { createCacheKeyStore, createHistoryStore, createLocalContentStore, createSnapshotter, openMetadataStore, preimageOf, prune } from '../../../cache/index.js';
import { makeTempDir } from '../../helpers/cli.js';

const DAY = 24 * 3600 * 1000;

function recordNaming(ref: string, cacheKey: string, contextChecksums: readonly string[] = []): HistoryRecord {
  const createdAt = Date.now();
  return {
    version: 1,
    ref,
    clientId: '',
    pid: 2 ** 22 + 1,
    status: 'completed',
    createdAt,
    completedAt: createdAt,
    request: { platforms: [], buildArgs: {}, outputs: [], noCache: false, noCacheFilter: [], dockerfileName: 'Dockerfile', dockerfileDigest: '', dockerfileText: 'FROM scratch\n', context: '' },
    steps: [{ index: 1, vertex: 'v', name: 'RUN make', status: 'completed', startedAt: 0, completedAt: 0, durationMs: 0, cached: false, logBytes: 0, cacheKey }],
    warnings: [],
    keys: {},
    contextChecksums,
    logFileBytes: 0,
  };
}

describe('key preimages of build records', () => {
  it('stay in the store while a kept record names their key or a key above them, and go with the record', async () => {
    await using tmp = await makeTempDir();
    await using meta = openMetadataStore(join(tmp.path, 'meta'));
    const keys = createCacheKeyStore(meta);
    const [base, step, other] = [digestOf('base'), digestOf('step'), digestOf('other')];
    const stepPreimage = { type: 'op', kind: 'exec', fields: {}, output: 0, inputs: [{ key: base }] };
    await keys.recordPreimage(base, { type: 'op', kind: 'source.image', fields: {}, output: 0, inputs: [] });
    await keys.recordPreimage(step, stepPreimage);
    await keys.recordPreimage(other, { type: 'op', kind: 'exec', fields: {}, output: 0, inputs: [] });
    for (const key of [base, step, other]) await meta.cacheRecords.put(key, { snapshotId: null, createdAt: 0, lastUsedAt: 0, description: 'old' });
    const history = createHistoryStore(tmp.path, meta);
    await history.ensureDir();
    const named = recordNaming('r1', step);
    await history.put(named);
    const parts = { meta, snapshotter: createSnapshotter(join(tmp.path, 'snapshots'), meta), content: createLocalContentStore(join(tmp.path, 'content')) };

    // Every record is unused for a day: all go, but the preimages the record names (and the one below) stay.
    await prune(parts, { all: false, keepDurationMs: DAY / 2 });
    expect([base, step, other].map((k) => meta.cacheRecords.doesExist(k))).toEqual([false, false, false]);
    expect([base, step, other].map((k) => meta.keyPreimages.doesExist(k))).toEqual([true, true, false]);
    // The record reads its step's preimage from the store, as explanations and debug shells do.
    expect(preimageOf(meta, named, step)).toEqual(stepPreimage);
    // A record of an earlier version carries its own copy, which wins.
    expect(preimageOf(meta, { ...named, keys: { [step]: 'copied' } }, step)).toBe('copied');

    // Once the record is gone and the grace of a day passed, the next collection drops them.
    await history.remove(['r1']);
    for (const key of [base, step]) await meta.keyPreimages.put(key, { recordedAt: Date.now() - 2 * DAY, preimage: {} });
    await prune(parts, { all: false, keepDurationMs: DAY / 2 });
    expect([base, step].map((k) => meta.keyPreimages.doesExist(k))).toEqual([false, false]);
  });
});
