import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { digestOf } from '../../../base/digest.js';
import { hostPlatform } from '../../../base/oci.js';
import { createLayerPrefetch } from '../../../controller/layer-prefetch.js';
import type { OutputSpec } from '../../../controller/request.js';
import { openStore, type Store } from '../../../controller/store.js';
import { createLayerTar, layerBlobKey } from '../../../exporter/index.js';
import { createVertex, type Vertex } from '../../../solver/graph/index.js';
import { makeTempDir, type TempDir } from '../../helpers/cli.js';

const platform = hostPlatform();
const image = { compression: 'gzip', forceCompression: false } as const;
const localImage: OutputSpec = { type: 'image', names: ['app'], push: false, image };
const KEY = layerBlobKey({ compression: 'uncompressed' });

function fileVertex(name: string, base: Vertex | undefined): Vertex {
  const op = { kind: 'file', base: base === undefined ? null : 0, actions: [{ action: 'mkdir', path: `/${name}`, mode: 0o755, makeParents: true }], platform } as const;
  return createVertex(op, base === undefined ? [] : [{ vertex: base, output: 0 }], { name });
}

function runVertex(name: string, rootfs: Vertex, other: Vertex): Vertex {
  const mounts = [
    { type: 'bind', input: 0, dest: '/', output: 0, readonly: false },
    { type: 'bind', input: 1, dest: '/other', output: null, readonly: true },
  ] as const;
  const op = { kind: 'exec', meta: { args: ['true'], env: [], cwd: '/', user: '' }, mounts, network: 'default', security: 'sandbox', platform } as const;
  return createVertex(op, [{ vertex: rootfs, output: 0 }, { vertex: other, output: 0 }], { name });
}

describe('layer prefetch', () => {
  let tmp: TempDir;
  let store: Store;
  const signal = new AbortController().signal;

  beforeEach(async () => {
    tmp = await makeTempDir();
    store = await openStore(tmp.path);
  });
  afterEach(async () => {
    await store[Symbol.asyncDispose]();
    await tmp[Symbol.asyncDispose]();
  });

  async function snapshot(content: string): Promise<string> {
    await using active = await store.snapshotter.prepare(null);
    await writeFile(join(active.dir, 'file.txt'), content);
    // Awaited here: disposing the active snapshot while the commit runs would remove it.
    return await active.commit('test layer');
  }

  async function tarDigest(snapshotId: string): Promise<string> {
    const parts: Buffer[] = [];
    for await (const chunk of createLayerTar(store.snapshotter.dir(snapshotId), { signal })) parts.push(chunk as Buffer);
    return digestOf(Buffer.concat(parts));
  }

  // base ← copy ← run is the image; `builder` is only mounted into the RUN, so it never becomes a layer.
  const graph = (): { base: Vertex; copy: Vertex; builder: Vertex; run: Vertex } => {
    const base = fileVertex('base', undefined);
    const copy = fileVertex('copy', base);
    const builder = fileVertex('builder', undefined);
    return { base, copy, builder, run: runVertex('run', copy, builder) };
  };

  it('digests the layers of a local image as they are committed, and only those', async () => {
    const { copy, builder, run } = graph();
    const [copied, built, ran] = [await snapshot('copy\n'), await snapshot('builder\n'), await snapshot('run\n')];
    await using prefetch = createLayerPrefetch(run, { outputs: [localImage], store, signal });
    prefetch.committed(copy.digest, copied);
    prefetch.committed(builder.digest, built);
    prefetch.committed(run.digest, ran);
    await prefetch.settled();
    expect((await store.layerBlobs.get(copied, KEY))?.diffId).toBe(await tarDigest(copied));
    expect((await store.layerBlobs.get(ran, KEY))?.diffId).toBe(await tarDigest(ran));
    expect(await store.layerBlobs.get(built, KEY)).toBeUndefined();
  });

  it('does nothing unless an image stays in the local store', async () => {
    const { copy, run } = graph();
    const copied = await snapshot('copy\n');
    const outputs: OutputSpec[] = [{ type: 'image', names: ['app'], push: true, image }, { type: 'oci', dest: '-', names: [], image }];
    await using prefetch = createLayerPrefetch(run, { outputs, store, signal });
    prefetch.committed(copy.digest, copied);
    await prefetch.settled();
    expect(await store.layerBlobs.get(copied, KEY)).toBeUndefined();
  });

  it('keys the blob as the export does: SOURCE_DATE_EPOCH alone leaves the layer as it is', async () => {
    const { copy, run } = graph();
    const copied = await snapshot('copy\n');
    await using prefetch = createLayerPrefetch(run, { outputs: [localImage], store, sourceDateEpoch: '5', signal });
    prefetch.committed(copy.digest, copied);
    await prefetch.settled();
    expect((await store.layerBlobs.get(copied, KEY))?.diffId).toBe(await tarDigest(copied));
    expect(await store.layerBlobs.get(copied, layerBlobKey({ compression: 'uncompressed', sourceDateEpoch: 5 }))).toBeUndefined();
  });

  it('keys the blob with SOURCE_DATE_EPOCH when the local image has rewrite-timestamp, as the export does', async () => {
    const { copy, run } = graph();
    const copied = await snapshot('copy\n');
    const rewriting: OutputSpec = { ...localImage, image: { ...image, rewriteTimestamp: true } };
    await using prefetch = createLayerPrefetch(run, { outputs: [rewriting], store, sourceDateEpoch: '5', signal });
    prefetch.committed(copy.digest, copied);
    await prefetch.settled();
    expect(await store.layerBlobs.get(copied, layerBlobKey({ compression: 'uncompressed', sourceDateEpoch: 5, rewriteTimestamp: true }), { exact: true })).toBeDefined();
    expect(await store.layerBlobs.get(copied, KEY)).toBeUndefined();
  });
});
