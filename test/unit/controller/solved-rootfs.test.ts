import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { digestOf } from '../../../base/digest.js';
import { ExportError } from '../../../base/errors.js';
import type { Descriptor } from '../../../base/oci.js';
import { createSolvedRootfs } from '../../../controller/solved-rootfs.js';
import { openStore, type Store } from '../../../controller/store.js';
import { createMemoryLayerBlobCache, exportLayerBlob } from '../../../exporter/index.js';
import type { ImportedCache, ImportedRef } from '../../../solver/ops/index.js';
import { makeTempDir, type TempDir } from '../../helpers/cli.js';

const GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
const blob = (n: number): Descriptor => ({ mediaType: GZIP, digest: digestOf(`blob ${n}`), size: n });

/** An imported cache that records what it was asked to do and never touches the network. */
function fakeCache(store: Store): ImportedCache & { fetched: Descriptor[]; unpacked: number } {
  const calls = { fetched: [] as Descriptor[], unpacked: 0 };
  return Object.assign(calls, {
    lookup: () => Promise.resolve(undefined),
    async unpack() {
      calls.unpacked++;
      await using active = await store.snapshotter.prepare(null);
      return { kind: 'snapshot' as const, snapshotId: await active.commit('unpacked') };
    },
    fetch(blobs: readonly Descriptor[]) {
      calls.fetched.push(...blobs);
      return Promise.resolve();
    },
    reject: () => undefined,
    chainOf: () => undefined,
    findLocal: () => undefined,
    aliasesOf: () => [],
  });
}

describe('solved rootfs of an imported result', () => {
  let tmp: TempDir;
  let store: Store;
  const signal = new AbortController().signal;
  const progress = { emit: () => undefined };
  const ref: ImportedRef = {
    kind: 'imported',
    key: digestOf('key'),
    vertex: 'v',
    name: 'RUN x',
    chain: [blob(1), blob(2)].map((descriptor) => ({ descriptor, diffId: digestOf(`tar ${descriptor.size}`) })),
  };
  beforeEach(async () => {
    tmp = await makeTempDir();
    store = await openStore(tmp.path);
  });
  afterEach(async () => {
    await store[Symbol.asyncDispose]();
    await tmp[Symbol.asyncDispose]();
  });

  it('gives an image its imported blobs as they are, fetching and unpacking nothing', async () => {
    const cache = fakeCache(store);
    const rootfs = createSolvedRootfs({ kind: 'imported', ref, cache }, { store, signal, progress });
    const layers = await rootfs.imageLayers({ compression: 'zstd', forceCompression: false }, 'step');
    expect(layers).toEqual(ref.chain.map((l) => ({ kind: 'blob', ...l })));
    expect(rootfs.top()).toBeNull();
    expect(cache).toMatchObject({ fetched: [], unpacked: 0 });
  });

  it('unpacks once when files are needed', async () => {
    const cache = fakeCache(store);
    const rootfs = createSolvedRootfs({ kind: 'imported', ref, cache }, { store, signal, progress });
    const layers = await rootfs.snapshots('step');
    expect(layers).toHaveLength(1);
    expect(await rootfs.snapshots('another step')).toEqual(layers);
    expect(cache.unpacked).toBe(1);
    expect(rootfs.top()).not.toBeNull();
  });

  it('fetches the blobs a forced recompression converts, unpacking nothing', async () => {
    const cache = fakeCache(store);
    const rootfs = createSolvedRootfs({ kind: 'imported', ref, cache }, { store, signal, progress });
    // Same compression: no recompression needed, the blobs serve as they are.
    expect(await rootfs.imageLayers({ compression: 'gzip', forceCompression: true }, 'step')).toHaveLength(2);
    expect(cache.fetched).toEqual([]);
    const layers = await rootfs.imageLayers({ compression: 'zstd', forceCompression: true }, 'step');
    expect(layers).toEqual(ref.chain.map((l) => ({ kind: 'blob', ...l })));
    expect(cache).toMatchObject({ fetched: ref.chain.map((l) => l.descriptor), unpacked: 0 });
    expect(rootfs.top()).toBeNull();
  });

  it('fetches only the imported blobs among those asked for', async () => {
    const cache = fakeCache(store);
    const rootfs = createSolvedRootfs({ kind: 'imported', ref, cache }, { store, signal, progress });
    await rootfs.fetch([blob(2), blob(3)], 'step');
    expect(cache.fetched).toEqual([blob(2)]);
  });
});

describe('exporting a blob layer', () => {
  const layer = { kind: 'blob' as const, descriptor: blob(1), diffId: digestOf('tar') };
  const options = { store: { info: () => Promise.resolve(undefined), writeBlob: () => Promise.reject(new Error('no writes')) }, cache: createMemoryLayerBlobCache(), signal: new AbortController().signal };

  it('uses the blob as it is unless another compression is forced, and cannot convert a blob that is not here', async () => {
    expect(await exportLayerBlob(layer, { ...options, compression: 'zstd' })).toEqual({ descriptor: layer.descriptor, diffId: layer.diffId });
    expect(await exportLayerBlob(layer, { ...options, compression: 'gzip', forceCompression: true })).toEqual({ descriptor: layer.descriptor, diffId: layer.diffId });
    await expect(exportLayerBlob(layer, { ...options, compression: 'zstd', forceCompression: true })).rejects.toThrow(ExportError);
    const source = { info: () => Promise.resolve(undefined), readBlob: () => Readable.from([]) };
    await expect(exportLayerBlob(layer, { ...options, source, compression: 'zstd', forceCompression: true })).rejects.toThrow(/its blob is not here/);
  });
});
