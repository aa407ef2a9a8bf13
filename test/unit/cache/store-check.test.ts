import { spawn } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { digestOf } from '../../../base/digest.js';
import { checkStore, createLocalContentStore, createSnapshotter, openMetadataStore, prune, repairStore, snapshotGraph, type MetadataStore, type StoreLayout } from '../../../cache/index.js';
import { readProcessStart, resourceKey } from '../../../cache/leases.js';
import { makeTempDir } from '../../helpers/cli.js';

const signal = new AbortController().signal;

async function addSnapshot(layout: StoreLayout, id: string, parent: string | null, options: { folder: boolean }): Promise<void> {
  await layout.meta.snapshots.put(id, { id, parent, createdAt: 1, description: `layer ${id}`, size: 0 });
  if (options.folder) await mkdir(join(layout.snapshotsDir, id, 'fs'), { recursive: true });
}

/** deadPid is the pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn('true');
  return new Promise<number>((resolve) => child.on('exit', () => resolve(child.pid ?? 0)));
}

function layoutIn(dir: string, meta: MetadataStore): StoreLayout {
  return { meta, snapshotsDir: join(dir, 'snapshots'), contentRoot: join(dir, 'content'), tmpDir: join(dir, 'tmp'), cacheMountsDir: join(dir, 'cache-mounts') };
}

async function addRecord(meta: MetadataStore, key: string, snapshotId: string | null): Promise<void> {
  await meta.cacheRecords.put(key, { snapshotId, createdAt: 1, lastUsedAt: 1, description: `RUN ${key}` });
}

describe('snapshotGraph', () => {
  it('says where a chain breaks: a record, a folder below, or a cycle', () => {
    const records = new Map([
      ['a', { parent: null }],
      ['b', { parent: 'a' }],
      ['c', { parent: 'gone' }],
      ['x', { parent: 'y' }],
      ['y', { parent: 'x' }],
    ]);
    const graph = snapshotGraph(records, new Set(['a', 'c', 'x', 'y']));
    expect(graph.intact('a')).toBe(true);
    expect(graph.explain('b')).toBe('the files of snapshot b are missing');
    expect(graph.explain('c')).toBe('snapshot gone below c has no record');
    expect(graph.explain('nope')).toBe('snapshot nope has no record');
    expect(graph.explain('x')).toBe('snapshot x is its own ancestor');
    expect(graph.recorded('b')).toBe(true);
    expect(graph.recorded('gone')).toBe(false);
  });
});

describe('checkStore and repairStore', () => {
  it('find records pointing at nothing and broken chains, and repair them round by round until none is left', async () => {
    await using tmp = await makeTempDir();
    await using meta = openMetadataStore(join(tmp.path, 'meta'));
    const layout = layoutIn(tmp.path, meta);
    await addSnapshot(layout, 'a', null, { folder: true });
    await addSnapshot(layout, 'b', 'a', { folder: true });
    await addSnapshot(layout, 'c', 'gone', { folder: true });
    await addSnapshot(layout, 'd', null, { folder: false });
    await addSnapshot(layout, 'e', 'd', { folder: true });
    await addSnapshot(layout, 'z', 'a', { folder: true });
    await addRecord(meta, 'fine', 'b');
    await addRecord(meta, 'scratch', null);
    await addRecord(meta, 'above-lost', 'e');
    await addRecord(meta, 'lost', 'nothing');
    await meta.layerBlobs.put('b\0origin', { descriptor: { digest: digestOf('x') }, diffId: digestOf('x') });
    await meta.layerBlobs.put('nothing\0gzip/-/-', { descriptor: { digest: digestOf('y') }, diffId: digestOf('y') });
    await meta.copyHints.put('vertex', { snapshotId: 'nothing', startedAt: 1 });
    await mkdir(join(layout.contentRoot, 'blobs', 'sha256'), { recursive: true });
    const good = digestOf('good');
    await writeFile(join(layout.contentRoot, 'blobs', 'sha256', good.slice(7)), 'good');
    await writeFile(join(layout.contentRoot, 'blobs', 'sha256', 'not-a-digest'), 'stray');

    const first = await checkStore(layout, { verification: 'all', signal });
    expect(first.findings.map((f) => [f.kind, f.where])).toEqual([
      ['snapshot-parent-missing', 'snapshots/c'],
      ['snapshot-folder-missing', join(layout.snapshotsDir, 'd')],
      ['record-snapshot-missing', 'cache-records/above-lost'],
      ['record-snapshot-missing', 'cache-records/lost'],
      ['layer-blob-record-dangling', 'layer-blobs/nothing gzip/-/-'],
      ['copy-hint-dangling', 'copy-hints/vertex'],
      ['unreferenced-snapshot', join(layout.snapshotsDir, 'z')],
      ['blob-digest-mismatch', join(layout.contentRoot, 'blobs', 'sha256', 'not-a-digest')],
    ]);
    expect(first.findings[2]?.detail).toBe('the files of snapshot d below e are missing (RUN above-lost)');
    expect(first).toMatchObject({ blobsHashed: 1, blobsTotal: 1, leaseHolders: [] });

    // Removing d leaves e with no parent: a second round removes it.
    const round1 = await repairStore(layout, first.findings);
    expect(round1.removed).toHaveLength(8);
    const second = await checkStore(layout, { verification: 'all', signal });
    expect(second.findings.map((f) => [f.kind, f.where])).toEqual([['snapshot-parent-missing', 'snapshots/e']]);
    await repairStore(layout, second.findings);
    expect((await checkStore(layout, { verification: 'all', signal })).findings).toEqual([]);
    expect([...meta.cacheRecords.getKeys()].sort()).toEqual(['fine', 'scratch']);
    expect([...meta.snapshots.getKeys()].sort()).toEqual(['a', 'b']);
  });

  it('find what dead processes left in cache mount folders, and what a running build may be using only when none runs', async () => {
    await using tmp = await makeTempDir();
    await using meta = openMetadataStore(join(tmp.path, 'meta'));
    const layout = layoutIn(tmp.path, meta);
    const pid = await deadPid();
    const mount = join(layout.cacheMountsDir, 'k1');
    await mkdir(join(mount, 'seeding-abc'), { recursive: true });
    await mkdir(join(mount, 'data'));
    await writeFile(join(mount, 'info.json'), '{}');
    await writeFile(join(mount, `info.json.${pid}-0a0b`), '{}');
    await writeFile(join(mount, `info.json.${process.pid}-0c0d`), '{}');
    await meta.leases.put('live', { pid: process.pid, processStart: (await readProcessStart(process.pid)) ?? -1, createdAt: 1, expiresAt: Date.now() + 60_000 });
    const building = await checkStore(layout, { verification: 'sample', signal });
    expect(building.leaseHolders).toEqual([process.pid]);
    expect(building.findings.map((f) => f.where)).toEqual([join(mount, `info.json.${pid}-0a0b`)]);
    await meta.leases.remove('live');
    const idle = await checkStore(layout, { verification: 'sample', signal });
    expect(idle.findings.map((f) => [f.kind, f.where])).toEqual([
      ['stale-temp', join(mount, `info.json.${pid}-0a0b`)],
      ['stale-temp', join(mount, 'seeding-abc')],
    ]);
    await repairStore(layout, idle.findings);
    expect((await readdir(mount)).sort()).toEqual(['data', 'info.json', `info.json.${process.pid}-0c0d`]);
  });

  it('reports an imported image whose manifest is damaged by its digest, and one whose layer blob is missing', async () => {
    await using tmp = await makeTempDir();
    await using meta = openMetadataStore(join(tmp.path, 'meta'));
    const layout = layoutIn(tmp.path, meta);
    const blobs = join(layout.contentRoot, 'blobs', 'sha256');
    await mkdir(blobs, { recursive: true });
    const put = async (text: string): Promise<string> => {
      const digest = digestOf(text);
      await writeFile(join(blobs, digest.slice(7)), text);
      return digest;
    };
    const config = await put('{"rootfs":{}}');
    const layer = digestOf('a layer never stored');
    const manifest = await put(JSON.stringify({ schemaVersion: 2, config: { digest: config }, layers: [{ digest: layer, size: 1 }] }));
    const damaged = digestOf('the manifest as it was');
    await writeFile(join(blobs, damaged.slice(7)), '{not json');
    const image = (name: string, manifestDigest: string) => ({ name, manifestDigest, manifestMediaType: 'm', manifestSize: 1, configDigest: config, snapshotId: null, createdAt: 1 });
    await meta.images.put('imported', image('imported', manifest));
    await meta.images.put('damaged', image('damaged', damaged));
    const found = await checkStore(layout, { verification: 'sample', signal });
    expect(found.findings.map((f) => [f.kind, f.where, f.detail])).toEqual([
      ['image-blob-missing', 'images/imported', `layer ${layer} is not in the content store`],
      ['blob-digest-mismatch', join(blobs, damaged.slice(7)), `its bytes hash to ${digestOf('{not json')}`],
    ]);
  });

  it('repair leaves what a build may use while a process holding a lease runs, and removes it once that process is dead', async () => {
    await using tmp = await makeTempDir();
    await using meta = openMetadataStore(join(tmp.path, 'meta'));
    const layout = layoutIn(tmp.path, meta);
    const holder = spawn('sleep', ['60']);
    const exited = new Promise<void>((resolve) => holder.on('exit', () => resolve()));
    try {
      const pid = holder.pid ?? 0;
      await meta.leases.put('holder', { pid, processStart: (await readProcessStart(pid)) ?? -1, createdAt: 1, expiresAt: Date.now() + 60_000 });
      await mkdir(join(layout.snapshotsDir, 'half-committed', 'fs'), { recursive: true });
      const busy = await checkStore(layout, { verification: 'sample', signal });
      expect(busy.leaseHolders).toEqual([pid]);
      expect(busy.findings.map((f) => f.kind)).toEqual(['orphan-snapshot-folder']);
      const deferred = await repairStore(layout, busy.findings);
      expect(deferred.removed).toEqual([]);
      expect(deferred.kept.map((k) => k.reason)).toEqual([`the store is in use (a live lease of process ${pid})`]);
      expect(await readdir(layout.snapshotsDir)).toEqual(['half-committed']);

      holder.kill('SIGKILL');
      await exited;
      const idle = await checkStore(layout, { verification: 'sample', signal });
      expect(idle.leaseHolders).toEqual([]);
      expect(idle.findings.map((f) => [f.kind, f.detail])).toEqual([
        ['stale-lease', `lease of process ${pid}: process ${pid} is not running`],
        ['orphan-snapshot-folder', 'no snapshot record names this folder'],
      ]);
      expect((await repairStore(layout, idle.findings)).kept).toEqual([]);
      expect(await readdir(layout.snapshotsDir)).toEqual([]);
      expect([...meta.leases.getKeys()]).toEqual([]);
    } finally {
      holder.kill('SIGKILL');
      await exited;
    }
  });

  it('report leases of dead processes and expired ones, repair drops them with what they name, and a live lease keeps its layer', async () => {
    await using tmp = await makeTempDir();
    await using meta = openMetadataStore(join(tmp.path, 'meta'));
    const layout = layoutIn(tmp.path, meta);
    const dead = await deadPid();
    const start = (await readProcessStart(process.pid)) ?? -1;
    const now = Date.now();
    await addSnapshot(layout, 'building', null, { folder: true });
    await addSnapshot(layout, 'abandoned', null, { folder: true });
    const lease = async (id: string, pid: number, expiresAt: number, snapshot: string): Promise<void> => {
      await meta.leases.put(id, { pid, processStart: start, createdAt: 1, expiresAt });
      await meta.leaseResources.put(resourceKey(id, 'snapshot', snapshot), true);
    };
    await lease('live', process.pid, now + 60_000, 'building');
    await lease('dead', dead, now + 60_000, 'abandoned');
    await lease('expired', process.pid, now - 1000, 'abandoned');
    const found = await checkStore(layout, { verification: 'sample', signal });
    expect(found.findings.map((f) => [f.kind, f.where, f.detail])).toEqual([
      ['stale-lease', 'leases/dead', `lease of process ${dead}: process ${dead} is not running`],
      ['stale-lease', 'leases/expired', `lease of process ${process.pid}: it expired 1 s ago`],
      ['unreferenced-snapshot', join(layout.snapshotsDir, 'abandoned'), expect.any(String)],
    ]);
    const repaired = await repairStore(layout, found.findings);
    // The live lease's process may still be using what no record names: the abandoned layer waits for it to end.
    expect(repaired.removed.map((f) => f.where)).toEqual(['leases/dead', 'leases/expired']);
    expect(repaired.kept.map((k) => k.finding.where)).toEqual([join(layout.snapshotsDir, 'abandoned')]);
    expect([...meta.leases.getKeys()]).toEqual(['live']);
    expect([...meta.leaseResources.getKeys()]).toEqual([resourceKey('live', 'snapshot', 'building')]);
    await meta.leases.put('live', { pid: process.pid, processStart: start, createdAt: 1, expiresAt: now - 1 });
    const ended = await checkStore(layout, { verification: 'sample', signal });
    expect((await repairStore(layout, ended.findings)).kept).toEqual([]);
    expect((await checkStore(layout, { verification: 'sample', signal })).findings).toEqual([]);
    expect(await readdir(layout.snapshotsDir)).toEqual([]);
  });

  it('find a store clean after prune removed layers, with their COPY hints', async () => {
    await using tmp = await makeTempDir();
    await using meta = openMetadataStore(join(tmp.path, 'meta'));
    const layout = layoutIn(tmp.path, meta);
    const snapshotter = createSnapshotter(layout.snapshotsDir, meta);
    const ids: string[] = [];
    for (const name of ['kept', 'pruned']) {
      await using active = await snapshotter.prepare(null);
      await writeFile(join(active.dir, 'f'), name);
      const id = await active.commit(`COPY ${name}`);
      ids.push(id);
      await meta.cacheRecords.put(name, { snapshotId: id, createdAt: 1, lastUsedAt: name === 'kept' ? Date.now() : 1, description: name });
      await meta.copyHints.put(`vertex-${name}`, { snapshotId: id, startedAt: 1 });
    }
    await prune({ meta, snapshotter, content: createLocalContentStore(layout.contentRoot) }, { all: false, keepDurationMs: 3_600_000 });
    expect([...meta.copyHints.getKeys()]).toEqual(['vertex-kept']);
    expect([...meta.snapshots.getKeys()]).toEqual([ids[0]]);
    expect((await checkStore(layout, { verification: 'all', signal })).findings).toEqual([]);
  });
});
