import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HistoryRecord } from '../../../base/build-record.js';
import { checksumListing, createHistoryStore, openHistoryLog, openMetadataStore, recordChecksumListing } from '../../../cache/index.js';
import { makeTempDir } from '../../helpers/cli.js';

const HOUR = 3600_000;
const NOW = 1_800_000_000_000;
const DEAD_PID = 2 ** 22 + 1;

function record(ref: string, agoHours: number, o: { status?: HistoryRecord['status']; pid?: number; checksum?: string; logFileBytes?: number } = {}): HistoryRecord {
  const createdAt = NOW - agoHours * HOUR;
  return {
    version: 1,
    ref,
    clientId: '',
    pid: o.pid ?? DEAD_PID,
    status: o.status ?? 'completed',
    createdAt,
    completedAt: createdAt + 1000,
    request: { platforms: [], buildArgs: {}, outputs: [], noCache: false, noCacheFilter: [], dockerfileName: 'Dockerfile', dockerfileDigest: '', dockerfileText: 'FROM scratch\n', context: '' },
    steps: [],
    warnings: [],
    keys: o.checksum === undefined ? {} : { k: { type: 'op', kind: 'source.local', fields: { checksum: o.checksum } } },
    logFileBytes: o.logFileBytes ?? 0,
  };
}

const sum = (n: number): string => `sha256:${String(n).repeat(64).slice(0, 64)}`;

describe('build history store', () => {
  it('prunes by count, age and size, oldest first, never a live build, and drops file lists no record names', async () => {
    await using tmp = await makeTempDir();
    const meta = openMetadataStore(join(tmp.path, 'meta'));
    try {
      const store = createHistoryStore(tmp.path, meta);
      await store.ensureDir();
      for (const r of [record('a', 1, { checksum: sum(1) }), record('b', 2), record('c', 3), record('d', 4, { checksum: sum(2) }), record('e', 100)]) {
        const log = openHistoryLog(store.logPath(r.ref));
        log.write({ step: 1, stream: 1, time: 0, data: Buffer.from(r.ref) });
        await store.put({ ...r, logFileBytes: await log.close() });
      }
      // The oldest build still runs (its process is this one): it is kept whatever its age.
      await store.put(record('live', 200, { status: 'running', pid: process.pid }));
      await recordChecksumListing(meta, sum(1), ['source .', 'a.txt\0file 644 sha256:1']);
      await recordChecksumListing(meta, sum(2), ['source .', 'b.txt\0file 644 sha256:2']);

      expect(await store.prune({ maxEntries: 50, maxAgeMs: 48 * HOUR, maxBytes: 1e9 }, NOW)).toEqual(['e']);
      expect(await store.prune({ maxEntries: 3, maxAgeMs: 48 * HOUR, maxBytes: 1e9 }, NOW)).toEqual(['d']);
      // While a build runs, file lists stay: those it made are named by its record only when it ends.
      expect(checksumListing(meta, sum(2))).toBeDefined();
      // The build ends: its record now counts, and the file list no record names goes.
      expect(await store.putAndPrune(record('live', 0.5, { pid: process.pid }), { maxEntries: 3, maxAgeMs: 48 * HOUR, maxBytes: 1e9 }, NOW)).toEqual(['c']);
      expect(checksumListing(meta, sum(2))).toBeUndefined();
      expect(checksumListing(meta, sum(1))).toEqual(['source .', 'a.txt\0file 644 sha256:1']);
      // Each record counts its log file and its size in the database (about 1 KB here): two fit in 2.5 KB.
      expect(await store.prune({ maxEntries: 50, maxAgeMs: 48 * HOUR, maxBytes: 2500 }, NOW)).toEqual(['b']);
      expect(store.list().map((r) => r.ref)).toEqual(['live', 'a']);
      expect((await readdir(store.dir)).sort()).toEqual(['a.log.gz']);
    } finally {
      await meta.close();
    }
  });

  it("prunes at a build's end with what another process removed meanwhile, dropping the file lists of the records it removes", async () => {
    await using tmp = await makeTempDir();
    const meta = openMetadataStore(join(tmp.path, 'meta'));
    try {
      // Two processes' views of one store: each keeps the summaries it read.
      const here = createHistoryStore(tmp.path, meta);
      const there = createHistoryStore(tmp.path, meta);
      const policy = { maxEntries: 1, maxAgeMs: 48 * HOUR, maxBytes: 1e9 };
      for (const n of [1, 2]) {
        await recordChecksumListing(meta, sum(n), ['source .', `${n}.txt\0file 644 sha256:${n}`]);
        await here.put(record(`r${n}`, 10 - n, { checksum: sum(n) }));
      }
      expect(await here.prune({ ...policy, maxEntries: 50 }, NOW)).toEqual([]);
      expect(await there.remove(['r1'])).toEqual(['r1']);
      expect(checksumListing(meta, sum(1))).toBeUndefined();
      await recordChecksumListing(meta, sum(3), ['source .', '3.txt\0file 644 sha256:3']);
      expect(await here.putAndPrune(record('r3', 1, { checksum: sum(3) }), policy, NOW)).toEqual(['r2']);
      expect(here.list().map((r) => r.ref)).toEqual(['r3']);
      expect(checksumListing(meta, sum(2))).toBeUndefined();
      expect(checksumListing(meta, sum(3))).toBeDefined();
    } finally {
      await meta.close();
    }
  });

  it('shows a record written or removed in this process at once, before its commit', async () => {
    await using tmp = await makeTempDir();
    const meta = openMetadataStore(join(tmp.path, 'meta'));
    try {
      const store = createHistoryStore(tmp.path, meta);
      const written = store.put(record('fresh-ref', 1));
      // Not committed yet: the database alone does not have it.
      expect(meta.buildHistory.get('fresh-ref')).toBeUndefined();
      expect(store.list().map((r) => r.ref)).toEqual(['fresh-ref']);
      expect(store.find('fresh')?.ref).toBe('fresh-ref');
      await written;
      expect(meta.buildHistory.get('fresh-ref')?.ref).toBe('fresh-ref');
      const removed = store.remove(['fresh-ref']);
      expect(store.list()).toEqual([]);
      expect(store.find('fresh-ref')).toBeUndefined();
      expect(await removed).toEqual(['fresh-ref']);
      expect(meta.buildHistory.get('fresh-ref')).toBeUndefined();
    } finally {
      await meta.close();
    }
  });

  it('reads a running record of a dead process as interrupted, finds records by a unique prefix, and indexes records written without a summary', async () => {
    await using tmp = await makeTempDir();
    const meta = openMetadataStore(join(tmp.path, 'meta'));
    try {
      const store = createHistoryStore(tmp.path, meta);
      await store.put(record('abc1', 1, { status: 'running' }));
      await store.put(record('abd2', 2));
      expect(store.find('abc')?.status).toBe('interrupted');
      expect(() => store.find('ab')).toThrow(/names 2 of them/);
      expect(store.find('x')).toBeUndefined();
      // A record without its summary (written before the index existed) is still pruned.
      await meta.buildHistory.put('old', record('old', 10));
      expect(await store.prune({ maxEntries: 2, maxAgeMs: 48 * HOUR, maxBytes: 1e9 }, NOW)).toEqual(['old']);
      // A finished build's record is written with the removals it brings, itself counted.
      expect(await store.putAndPrune(record('new', 0), { maxEntries: 2, maxAgeMs: 48 * HOUR, maxBytes: 1e9 }, NOW)).toEqual(['abd2']);
      expect(await store.putAndPrune(record('late', 0.5), { maxEntries: 0, maxAgeMs: 48 * HOUR, maxBytes: 1e9 }, NOW)).toEqual(['new', 'late', 'abc1']);
      expect(store.list()).toEqual([]);
    } finally {
      await meta.close();
    }
  });
});
