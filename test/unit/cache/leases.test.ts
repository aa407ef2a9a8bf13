import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { open } from 'lmdb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { digestOf, type Digest } from '../../../base/digest.js';
import { createStoreLease, openMetadataStore, type MetadataStore } from '../../../cache/index.js';
import { sweep } from '../../../cache/gc-sweep.js';
import { leasedResources, leaseState, readProcessStart, reclaimLeases, resourceKey } from '../../../cache/leases.js';
import { makeTempDir } from '../../helpers/cli.js';

async function deadPid(): Promise<number> {
  const child = spawn('true');
  return new Promise<number>((resolve) => child.on('exit', () => resolve(child.pid ?? 0)));
}

/** leaseOf adds a lease record and its resources as a process would. */
async function leaseOf(meta: MetadataStore, id: string, record: { pid: number; processStart: number; expiresAt: number }, resources: readonly (readonly ['snapshot' | 'blob' | 'cache-record', string])[]): Promise<void> {
  await meta.leases.put(id, { ...record, createdAt: 1 });
  for (const [kind, res] of resources) await meta.leaseResources.put(resourceKey(id, kind, res), true);
}

async function addSnapshot(meta: MetadataStore, id: string, parent: string | null): Promise<void> {
  await meta.snapshots.put(id, { id, parent, createdAt: 1, description: `layer ${id}`, size: 10 });
}

describe('the lease table', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('holds one lease per process while builds run, names what they look up, and drops it with the last hold', async () => {
    await using tmp = await makeTempDir();
    await using meta = openMetadataStore(join(tmp.path, 'meta'));
    await addSnapshot(meta, 's1', null);
    const lease = createStoreLease(meta);
    // No hold, nothing written: a lookup only looks.
    expect(lease.useSync((add) => (add('snapshot', 's1'), 'found'))).toBe('found');
    expect([...meta.leases.getKeys()]).toEqual([]);

    const first = await lease.hold();
    const second = await lease.hold();
    const [id] = [...meta.leases.getKeys()];
    expect(meta.leases.get(id ?? '')).toMatchObject({ pid: process.pid, processStart: await readProcessStart(process.pid) });
    lease.useSync((add) => add('snapshot', 's1'));
    await lease.addBlob(digestOf('blob'));
    expect(lease.has('snapshot', 's1')).toBe(true);
    expect([...meta.leaseResources.getKeys()].sort()).toEqual([resourceKey(id ?? '', 'blob', digestOf('blob')), resourceKey(id ?? '', 'snapshot', 's1')]);
    // A lookup that throws leaves nothing in the lease.
    expect(() => lease.useSync((add) => { add('cache-record', 'k'); throw new Error('lookup failed'); })).toThrow('lookup failed');
    expect(lease.has('cache-record', 'k')).toBe(false);
    expect(meta.leaseResources.get(resourceKey(id ?? '', 'cache-record', 'k'))).toBeUndefined();

    // The asynchronous form: named once its transaction is durable; one that throws leaves nothing either.
    const using = lease.use((add) => (add('snapshot', 's2'), 'found later'));
    expect(lease.has('snapshot', 's2')).toBe(false);
    await expect(using).resolves.toBe('found later');
    expect(lease.has('snapshot', 's2')).toBe(true);
    expect(meta.leaseResources.get(resourceKey(id ?? '', 'snapshot', 's2'))).toBe(true);
    await expect(lease.use((add) => { add('cache-record', 'k2'); throw new Error('lookup failed'); })).rejects.toThrow('lookup failed');
    expect(lease.has('cache-record', 'k2')).toBe(false);
    expect(meta.leaseResources.get(resourceKey(id ?? '', 'cache-record', 'k2'))).toBeUndefined();
    await lease.use((add) => add('snapshot', 's2'));

    await first[Symbol.asyncDispose]();
    expect([...meta.leases.getKeys()]).toEqual([id]);
    await second[Symbol.asyncDispose]();
    expect([...meta.leases.getKeys()]).toEqual([]);
    expect([...meta.leaseResources.getKeys()]).toEqual([]);
    expect(lease.has('snapshot', 's1')).toBe(false);
  });

  it('lingers after its last hold when asked, so that the next builds share it with what it names', async () => {
    await using tmp = await makeTempDir();
    await using meta = openMetadataStore(join(tmp.path, 'meta'));
    await addSnapshot(meta, 's1', null);
    const lease = createStoreLease(meta, { lingerMs: 150 });
    const first = await lease.hold();
    const [id] = [...meta.leases.getKeys()];
    lease.useSync((add) => add('snapshot', 's1'));
    await first[Symbol.asyncDispose]();
    // Still there, and taken again by the next hold: nothing is written for what it already names.
    expect([...meta.leases.getKeys()]).toEqual([id]);
    const second = await lease.hold();
    expect([...meta.leases.getKeys()]).toEqual([id]);
    expect(lease.has('snapshot', 's1')).toBe(true);
    await second[Symbol.asyncDispose]();
    // Dropped once the linger time passed with no hold.
    await delay(400);
    expect([...meta.leases.getKeys()]).toEqual([]);
    expect([...meta.leaseResources.getKeys()]).toEqual([]);
    expect(lease.has('snapshot', 's1')).toBe(false);
    // releaseIdle drops a lingering lease at once, as collection in the same process asks before it looks.
    await (await lease.hold())[Symbol.asyncDispose]();
    expect([...meta.leases.getKeys()].length).toBe(1);
    await lease.releaseIdle();
    expect([...meta.leases.getKeys()]).toEqual([]);
  });

  it('stops lingering once it was shared long enough, so that builds that keep coming do not keep it forever', async () => {
    await using tmp = await makeTempDir();
    await using meta = openMetadataStore(join(tmp.path, 'meta'));
    const lease = createStoreLease(meta, { lingerMs: 10_000, maxShareMs: 100 });
    await (await lease.hold())[Symbol.asyncDispose]();
    const [first] = [...meta.leases.getKeys()];
    expect(first).toBeDefined();
    await delay(150);
    // The hold after the share time takes the lingering lease, and its end drops it instead of lingering again.
    await (await lease.hold())[Symbol.asyncDispose]();
    expect([...meta.leases.getKeys()]).toEqual([]);
    await (await lease.hold())[Symbol.asyncDispose]();
    expect([...meta.leases.getKeys()].length).toBe(1);
    expect([...meta.leases.getKeys()]).not.toContain(first);
    await lease.releaseIdle();
  });

  it('is renewed once shared long enough even while builds overlap, the old lease dropped with its last build', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    await using tmp = await makeTempDir();
    await using meta = openMetadataStore(join(tmp.path, 'meta'));
    await addSnapshot(meta, 's1', null);
    await addSnapshot(meta, 's2', null);
    const lease = createStoreLease(meta, { lingerMs: 10_000, maxShareMs: 30_000 });
    const leases = (): string[] => [...meta.leases.getKeys()];
    const named = (id: string): string[] => [...meta.leaseResources.getKeys()].filter((key) => key.startsWith(`${id} `));
    // Builds of 20 s start every 10 s: some build always holds the lease.
    const running = [await lease.hold()];
    const [first = ''] = leases();
    lease.useSync((add) => add('snapshot', 's1'));
    const seen = new Set<string>([first]);
    for (let i = 0; i < 12; i++) {
      vi.setSystemTime(Date.now() + 10_000);
      running.push(await lease.hold());
      if (i === 3) lease.useSync((add) => add('snapshot', 's2'));
      await running.shift()?.[Symbol.asyncDispose]();
      for (const id of leases()) seen.add(id);
      // One lease at a time, two while a build of the old one still runs; none older than the share time and a build.
      expect(leases().length).toBeLessThanOrEqual(2);
      for (const id of leases()) expect(Date.now() - (meta.leases.get(id)?.createdAt ?? 0)).toBeLessThanOrEqual(30_000 + 20_000);
    }
    // The first lease, and what only it named, went while builds kept coming; later leases took over.
    expect(leases()).not.toContain(first);
    expect(named(first)).toEqual([]);
    expect(seen.size).toBeGreaterThanOrEqual(4);
    // What a build uses after a renewal is named by the lease that holds it then, not found in an old one.
    expect(lease.has('snapshot', 's1')).toBe(false);
    const current = leases().at(-1) ?? '';
    lease.useSync((add) => add('snapshot', 's1'));
    expect(named(current)).toContain(resourceKey(current, 'snapshot', 's1'));
    for (const held of running) await held[Symbol.asyncDispose]();
    await lease.releaseIdle();
    expect(leases()).toEqual([]);
    expect([...meta.leaseResources.getKeys()]).toEqual([]);
  });

  it('pushes its expiry forward while held', async () => {
    await using tmp = await makeTempDir();
    await using meta = openMetadataStore(join(tmp.path, 'meta'));
    const lease = createStoreLease(meta, { expiryMs: 200, refreshMs: 20 });
    await using _held = await lease.hold();
    const [id = ''] = [...meta.leases.getKeys()];
    const taken = meta.leases.get(id)?.expiresAt ?? 0;
    await delay(150);
    expect(meta.leases.get(id)?.expiresAt).toBeGreaterThan(taken + 50);
  });

  it('judges a lease dead when its process is gone, when its pid belongs to a later process, or when it expired', async () => {
    const now = Date.now();
    const start = (await readProcessStart(process.pid)) ?? -1;
    const dead = await deadPid();
    expect(await leaseState({ pid: process.pid, processStart: start, createdAt: 1, expiresAt: now + 1000 }, now)).toEqual({ live: true });
    expect(await leaseState({ pid: dead, processStart: start, createdAt: 1, expiresAt: now + 1000 }, now)).toEqual({ live: false, reason: `process ${dead} is not running` });
    expect(await leaseState({ pid: process.pid, processStart: start - 1, createdAt: 1, expiresAt: now + 1000 }, now)).toEqual({ live: false, reason: `process ${process.pid} is another process than the one that took it` });
    expect(await leaseState({ pid: process.pid, processStart: start, createdAt: 1, expiresAt: now - 5000 }, now)).toEqual({ live: false, reason: 'it expired 5 s ago' });
  });

  it('reclaims the leases of dead processes and expired ones with what they name, and resources without a lease', async () => {
    await using tmp = await makeTempDir();
    await using meta = openMetadataStore(join(tmp.path, 'meta'));
    const now = Date.now();
    const start = (await readProcessStart(process.pid)) ?? -1;
    await leaseOf(meta, 'live', { pid: process.pid, processStart: start, expiresAt: now + 60_000 }, [['snapshot', 'a']]);
    await leaseOf(meta, 'dead', { pid: await deadPid(), processStart: start, expiresAt: now + 60_000 }, [['snapshot', 'b'], ['blob', digestOf('b')]]);
    await leaseOf(meta, 'reused', { pid: process.pid, processStart: start + 1, expiresAt: now + 60_000 }, [['cache-record', 'c']]);
    await leaseOf(meta, 'expired', { pid: process.pid, processStart: start, expiresAt: now - 1 }, [['snapshot', 'd']]);
    await meta.leaseResources.put(resourceKey('gone', 'snapshot', 'e'), true);
    expect(leasedResources(meta, now).snapshots).toEqual(new Set(['a', 'b']));
    expect(await reclaimLeases(meta, now)).toBe(3);
    expect([...meta.leases.getKeys()]).toEqual(['live']);
    expect([...meta.leaseResources.getKeys()]).toEqual([resourceKey('live', 'snapshot', 'a')]);
  });

  it('opens a store made before leases existed: the tables are created empty and the old records stay', async () => {
    await using tmp = await makeTempDir();
    const dir = join(tmp.path, 'meta');
    const old = open({ path: dir, compression: false, maxDbs: 16, noSubdir: false });
    await old.openDB({ name: 'cache-records', encoding: 'msgpack' }).put('k', { snapshotId: null, createdAt: 1, lastUsedAt: 1, description: 'old' });
    await old.close();
    await using meta = openMetadataStore(dir);
    expect([...meta.leases.getKeys()]).toEqual([]);
    expect(meta.cacheRecords.get('k')).toMatchObject({ description: 'old' });
    await using _held = await createStoreLease(meta).hold();
    expect([...meta.leases.getKeys()]).toHaveLength(1);
  });
});

describe('sweep', () => {
  it('keeps what cache records, images and live leases reach, with parents, and removes the rest in one go', async () => {
    await using tmp = await makeTempDir();
    await using meta = openMetadataStore(join(tmp.path, 'meta'));
    const now = Date.now();
    const start = (await readProcessStart(process.pid)) ?? -1;
    // base <- kept (cache record) ; base2 <- leased (live lease) ; image-snap (image) ; orphan ; dead-leased (dead lease)
    for (const [id, parent] of [['base', null], ['kept', 'base'], ['base2', null], ['leased', 'base2'], ['image-snap', null], ['orphan', 'base'], ['dead-leased', null]] as const) await addSnapshot(meta, id, parent);
    await meta.cacheRecords.put('record', { snapshotId: 'kept', createdAt: 1, lastUsedAt: 1, description: 'RUN kept' });
    await meta.cacheRecords.put('dropped', { snapshotId: 'orphan', createdAt: 1, lastUsedAt: 1, description: 'RUN dropped' });
    await meta.cacheRecords.put('dropped-leased', { snapshotId: null, createdAt: 1, lastUsedAt: 1, description: 'RUN leased' });
    const blob = (name: string): Digest => digestOf(name);
    await meta.images.put('img', { name: 'img', manifestDigest: blob('manifest'), manifestMediaType: 'm', manifestSize: 1, configDigest: blob('config'), snapshotId: 'image-snap', createdAt: 1 });
    await meta.layerBlobs.put('kept\0origin', { descriptor: { digest: blob('kept-layer') }, diffId: blob('kept-layer') });
    await meta.layerBlobs.put('orphan\0origin', { descriptor: { digest: blob('orphan-layer') }, diffId: blob('orphan-layer') });
    await leaseOf(meta, 'live', { pid: process.pid, processStart: start, expiresAt: now + 60_000 }, [['snapshot', 'leased'], ['blob', blob('leased-blob')], ['cache-record', 'dropped-leased']]);
    await leaseOf(meta, 'expired', { pid: process.pid, processStart: start, expiresAt: now - 1 }, [['snapshot', 'dead-leased'], ['blob', blob('dead-blob')]]);
    const names = ['manifest', 'config', 'image-layer', 'kept-layer', 'orphan-layer', 'leased-blob', 'dead-blob', 'stray'];
    const blobs = new Map(names.map((n) => [blob(n) as string, 100]));
    const deleted: string[] = [];
    const result = sweep(meta, { deleteBlobSync: (d) => void deleted.push(d) }, {
      dropRecords: new Set(['dropped', 'dropped-leased', 'already-gone']),
      blobs,
      manifestLayers: new Map([[blob('manifest'), [blob('image-layer')]]]),
      now,
    });
    expect(result.records).toBe(1);
    expect(result.snapshots.map((s) => s.id).sort()).toEqual(['dead-leased', 'orphan']);
    expect(deleted.sort()).toEqual([blob('dead-blob'), blob('orphan-layer'), blob('stray')].sort());
    expect(result).toMatchObject({ blobs: 3, blobBytes: 300 });
    expect([...meta.snapshots.getKeys()].sort()).toEqual(['base', 'base2', 'image-snap', 'kept', 'leased']);
    expect([...meta.cacheRecords.getKeys()].sort()).toEqual(['dropped-leased', 'record']);
    expect([...meta.layerBlobs.getKeys()]).toEqual(['kept\0origin']);
  });

  it('removes no blob when an image was stored after its manifests were read', async () => {
    await using tmp = await makeTempDir();
    await using meta = openMetadataStore(join(tmp.path, 'meta'));
    await meta.images.put('new', { name: 'new', manifestDigest: digestOf('m'), manifestMediaType: 'm', manifestSize: 1, configDigest: digestOf('c'), snapshotId: null, createdAt: 1 });
    const deleted: string[] = [];
    const result = sweep(meta, { deleteBlobSync: (d) => void deleted.push(d) }, { dropRecords: new Set(), blobs: new Map([[digestOf('layer'), 1]]), manifestLayers: new Map(), now: Date.now() });
    expect([result.blobs, deleted]).toEqual([0, []]);
  });
});
