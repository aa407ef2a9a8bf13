import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { digestOf, type Digest } from '../../../base/digest.js';
import { ContentError } from '../../../base/errors.js';
import { hostPlatform, type Descriptor } from '../../../base/oci.js';
import type { ProgressEvent } from '../../../base/progress.js';
import type { CacheConfig, CacheLayer } from '../../../cache/cache-config.js';
import { openStore, type Store } from '../../../controller/store.js';
import { createVertex, type Vertex } from '../../../solver/graph/index.js';
import type { JobContext, OpRunner } from '../../../solver/index.js';
import { createImportedCache, withImportedCache, type CacheBlobSource, type ImportedRef, type Ref } from '../../../solver/ops/index.js';
import { makeTempDir, type TempDir } from '../../helpers/cli.js';

const GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';

async function layerOf(files: Record<string, string>): Promise<{ layer: CacheLayer; bytes: Buffer }> {
  const tar = pack();
  for (const [name, text] of Object.entries(files)) tar.entry({ name, mode: 0o644, mtime: new Date(0) }, text);
  tar.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of tar) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  const bytes = gzipSync(raw);
  return { layer: { mediaType: GZIP, digest: digestOf(bytes), size: bytes.length, diffId: digestOf(raw) }, bytes };
}

/** A cache source serving blobs from memory, counting what it was asked for. */
class MemorySource implements CacheBlobSource {
  readonly name = 'memory';
  readonly opened: Digest[] = [];
  readonly blobs = new Map<Digest, Buffer>();
  open(descriptor: Descriptor): Promise<NodeJS.ReadableStream> {
    this.opened.push(descriptor.digest);
    const bytes = this.blobs.get(descriptor.digest);
    if (bytes === undefined) return Promise.reject(new ContentError(`no blob ${descriptor.digest}`, { code: 'CONTENT_NOT_FOUND' }));
    return Promise.resolve(Readable.from([bytes]));
  }
}

function vertex(name: string): Vertex {
  const platform = hostPlatform();
  return createVertex(
    { kind: 'exec', meta: { args: ['sh', '-c', name], env: [], cwd: '/', user: '' }, mounts: [], network: 'default', security: 'sandbox', platform },
    [],
    { name },
  );
}

const unused = (): never => {
  throw new Error('the wrapped runner is not used here');
};
/** A runner whose own store never has anything: every lookup goes to the imported cache. */
const emptyRunner: OpRunner<Ref> = { pin: unused, run: unused, contentDigest: unused, selectedContentDigest: unused, lookup: () => Promise.resolve(undefined) };

describe('imported cache', () => {
  let tmp: TempDir;
  let store: Store;
  let source: MemorySource;
  let config: CacheConfig;
  let events: ProgressEvent[];
  let job: JobContext;
  const keyBase = digestOf('key base');
  const keyTop = digestOf('key top');

  beforeEach(async () => {
    tmp = await makeTempDir();
    store = await openStore(tmp.path);
    source = new MemorySource();
    const base = await layerOf({ 'base.txt': 'base\n' });
    const top = await layerOf({ 'top.txt': 'top\n' });
    for (const l of [base, top]) source.blobs.set(l.layer.digest, l.bytes);
    config = {
      schemaVersion: 1,
      layers: [base.layer, top.layer],
      records: [
        { key: keyBase, layer: 0, parent: [] },
        { key: keyTop, layer: 1, parent: [0] },
      ],
    };
    events = [];
    job = { id: 'test', signal: new AbortController().signal, progress: { emit: (e) => events.push(e) } };
  });
  afterEach(async () => {
    await store[Symbol.asyncDispose]();
    await tmp[Symbol.asyncDispose]();
  });

  const imported = (): ReturnType<typeof createImportedCache> => createImportedCache([{ source, config }], store);
  const lookupTop = async (cache = imported()): Promise<ImportedRef> => {
    const hit = await cache.lookup(keyTop, vertex('top'));
    if (hit?.kind !== 'imported') throw new Error(`expected an imported ref, got ${JSON.stringify(hit)}`);
    return hit;
  };

  it('answers a hit with the record chain and fetches nothing', async () => {
    const hit = await lookupTop();
    expect(hit.chain.map((l) => l.descriptor.digest)).toEqual(config.layers.map((l) => l.digest));
    expect(hit.chain.map((l) => l.diffId)).toEqual(config.layers.map((l) => l.diffId));
    expect(hit.vertex).toBe(vertex('top').digest);
    expect(source.opened).toEqual([]);
    expect([...store.meta.snapshots.getKeys()]).toEqual([]);
    expect(await imported().lookup(digestOf('unknown'), vertex('x'))).toBeUndefined();
  });

  it('names the other keys listed for the same layers, as aliases of a key', () => {
    const byFiles = digestOf('key top by files');
    const cache = createImportedCache([{ source, config: { ...config, records: [...config.records, { key: byFiles, layer: 1, parent: [0] }] } }], store);
    expect(cache.aliasesOf(keyTop)).toEqual([byFiles]);
    expect(cache.aliasesOf(byFiles)).toEqual([keyTop]);
    // The base layer alone is another result: no alias of the top.
    expect(cache.aliasesOf(keyBase)).toEqual([]);
    expect(cache.aliasesOf(digestOf('unknown'))).toEqual([]);
  });

  it('unpacks a hit on demand, records it, and serves it from the store afterwards', async () => {
    const cache = imported();
    const ref = await cache.unpack(await lookupTop(cache), job);
    expect(ref.kind).toBe('snapshot');
    const chain = store.snapshotter.chain(ref.snapshotId);
    expect(chain).toHaveLength(2);
    expect(await readFile(join(store.snapshotter.dir(chain[1] ?? ''), 'top.txt'), 'utf8')).toBe('top\n');
    expect(store.cacheKeys.lookup(keyTop)?.resultId).toBe(ref.snapshotId);
    // Progress of the downloads belongs to the vertex that hit.
    const done = events.filter((e) => e.type === 'status' && e.completed === true);
    expect(done.map((e) => (e.type === 'status' ? e.vertex : ''))).toEqual([vertex('top').digest, vertex('top').digest]);
    // The base record shares the unpacked layer: no download, a snapshot at once.
    source.opened.length = 0;
    expect(await imported().lookup(keyBase, vertex('base'))).toEqual({ kind: 'snapshot', snapshotId: chain[0] });
    expect(source.opened).toEqual([]);
  });

  it('fetches blobs into the content store once, verified, without unpacking them', async () => {
    const cache = imported();
    const blobs = config.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size }));
    const o = { vertex: 'export step', signal: job.signal, progress: job.progress };
    await Promise.all([cache.fetch(blobs, o), cache.fetch(blobs, o)]);
    expect(source.opened).toEqual(blobs.map((b) => b.digest));
    for (const b of blobs) expect(await store.content.info(b.digest)).toEqual({ digest: b.digest, size: b.size });
    expect([...store.meta.snapshots.getKeys()]).toEqual([]);
    expect(events.every((e) => e.type !== 'status' || e.vertex === 'export step')).toBe(true);
    const unknown = { mediaType: GZIP, digest: digestOf('elsewhere'), size: 1 };
    await expect(cache.fetch([unknown], o)).rejects.toThrow(/neither the store nor an imported cache has it/);
  });

  it('refuses a tampered blob: the record is dropped with a warning and the store keeps nothing of it', async () => {
    const top = config.layers[1];
    if (top === undefined) throw new Error('fixture has two layers');
    const bytes = source.blobs.get(top.digest) ?? Buffer.alloc(0);
    source.blobs.set(top.digest, Buffer.concat([bytes.subarray(0, -1), Buffer.from([(bytes.at(-1) ?? 0) ^ 0xff])]));
    const cache = imported();
    const runner = withImportedCache(emptyRunner, cache);
    const hit = await runner.lookup(vertex('top'), keyTop, job);
    expect(hit?.kind).toBe('imported');
    if (hit === undefined) return;
    expect(await runner.load?.(vertex('top'), hit, job)).toBeUndefined();
    expect(events.some((e) => e.type === 'warning' && e.message.includes(`Ignoring cache record ${keyTop}`))).toBe(true);
    expect(await store.content.info(top.digest)).toBeUndefined();
    expect(await runner.lookup(vertex('top'), keyTop, job)).toBeUndefined();
    expect(cache.chainOf(keyTop)).toBeUndefined();
  });

  it('hands the runner only loaded inputs', async () => {
    const runner = withImportedCache(emptyRunner, imported());
    const hit = await lookupTop();
    await expect(runner.run(vertex('next'), digestOf('next'), [hit], job)).rejects.toThrow(/before it is loaded/);
  });
});
