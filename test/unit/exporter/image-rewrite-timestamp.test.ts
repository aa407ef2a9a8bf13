import { mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ExportError } from '../../../base/errors.js';
import type { ImageBase, ImageConfig } from '../../../base/oci.js';
import { readTar } from '../../../cache/layer/index.js';
import { createLocalContentStore, type ContentStore } from '../../../cache/content-store.js';
import { buildImage, createMemoryLayerBlobCache, type BuildImageOptions, getLayerBlob, type LayerBlob, type LayerBlobCache, type SnapshotLayer } from '../../../exporter/index.js';
import { makeTempDir } from '../../helpers/cli.js';

const signal = new AbortController().signal;
const FILE_TIME = Date.parse('2030-01-01T00:00:00Z') / 1000;
const EPOCH = Date.parse('2021-06-01T00:00:00Z') / 1000;
/** A file time before the epoch: rewrite-timestamp keeps it, as BuildKit clamps only the later ones. */
const OLD_TIME = EPOCH - 86_400;
const REWRITTEN = 'buildkit/rewritten-timestamp';

const CONFIG: ImageConfig = {
  architecture: 'amd64',
  os: 'linux',
  rootfs: { type: 'layers', diff_ids: [] },
  history: [{ created_by: 'base layer' }, { created_by: 'RUN imported' }, { created_by: 'COPY top' }],
};

/**
 * pulledCache is a blob cache in which some snapshots came pulled (or imported) as a blob, as the store's layer blob
 * records keep them: that blob answers for any settings unless a blob made with exactly those settings is asked for.
 */
function pulledCache(pulled: ReadonlyMap<string, LayerBlob>): LayerBlobCache {
  const made = createMemoryLayerBlobCache();
  return {
    async get(id, key, options) {
      return (await made.get(id, key)) ?? (options?.exact === true ? undefined : pulled.get(id));
    },
    origin: (id) => Promise.resolve(pulled.get(id)),
    set: (id, key, blob) => made.set(id, key, blob),
  };
}

/** fileTimes reads the modification times of a gzip layer blob's entries. */
async function fileTimes(store: ContentStore, blob: LayerBlob): Promise<number[]> {
  const tar = gunzipSync(await readFile(store.blobPath(blob.descriptor.digest)));
  const times: number[] = [];
  for await (const entry of readTar(Readable.from([tar]))) times.push(entry.header.mtime);
  return times;
}

async function snapshot(root: string, id: string): Promise<SnapshotLayer> {
  const dir = join(root, id);
  await mkdir(dir);
  await writeFile(join(dir, id), `${id}\n`);
  await utimes(join(dir, id), FILE_TIME, FILE_TIME);
  return { id, dir };
}

describe('rewrite-timestamp on image export', () => {
  it('marks and clamps every layer above the base, making one that came as a blob again from its files', async () => {
    await using tmp = await makeTempDir();
    const store = createLocalContentStore(join(tmp.path, 'content'));
    const layers = [await snapshot(tmp.path, 'base'), await snapshot(tmp.path, 'imported'), await snapshot(tmp.path, 'top')];
    await writeFile(join(tmp.path, 'top', 'old'), 'old\n');
    await utimes(join(tmp.path, 'top', 'old'), OLD_TIME, OLD_TIME);
    // The base and the imported layer came as blobs made without an epoch.
    const pulled = new Map<string, LayerBlob>();
    for (const l of layers.slice(0, 2)) pulled.set(l.id, await getLayerBlob(l, { compression: 'gzip', store, cache: createMemoryLayerBlobCache(), signal }));
    const pulledBase = pulled.get('base');
    expect(pulledBase).toBeDefined();
    const base: ImageBase = { diffIds: pulledBase === undefined ? [] : [pulledBase.diffId], historyLength: 1 };
    const options = { compression: 'gzip' as const, store, cache: pulledCache(pulled), signal, base };

    const image = await buildImage({ layers, config: CONFIG }, { ...options, sourceDateEpoch: EPOCH, rewriteTimestamp: true });
    const [kept, imported, top] = image.manifest.layers;
    expect(kept).toEqual(pulled.get('base')?.descriptor);
    expect(imported?.annotations).toEqual({ [REWRITTEN]: String(EPOCH) });
    expect(imported?.digest).not.toBe(pulled.get('imported')?.descriptor.digest);
    expect(top?.annotations).toEqual({ [REWRITTEN]: String(EPOCH) });
    // Only the times later than the epoch are clamped.
    expect(await Promise.all(image.layers.map((l) => fileTimes(store, l)))).toEqual([[FILE_TIME], [EPOCH], [OLD_TIME, EPOCH]]);
    expect(image.config.rootfs.diff_ids).toEqual(image.layers.map((l) => l.diffId));

    // Without rewrite-timestamp, or without an epoch, nothing is marked, blobs are reused as they came, and the layers
    // the build made keep their file times: as in BuildKit, SOURCE_DATE_EPOCH alone dates the image only.
    const variants: Pick<BuildImageOptions, 'sourceDateEpoch' | 'rewriteTimestamp'>[] = [{ sourceDateEpoch: EPOCH }, { rewriteTimestamp: true }];
    for (const extra of variants) {
      const plain = await buildImage({ layers, config: CONFIG }, { ...options, cache: pulledCache(pulled), ...extra });
      expect(plain.manifest.layers.map((l) => l.annotations)).toEqual([undefined, undefined, undefined]);
      expect(plain.manifest.layers[1]).toEqual(pulled.get('imported')?.descriptor);
      expect(await Promise.all(plain.layers.map((l) => fileTimes(store, l)))).toEqual([[FILE_TIME], [FILE_TIME], [OLD_TIME, FILE_TIME]]);
    }
  });

  it('refuses to rewrite a layer above the base that is only a blob', async () => {
    await using tmp = await makeTempDir();
    const store = createLocalContentStore(join(tmp.path, 'content'));
    const made = await getLayerBlob(await snapshot(tmp.path, 'only'), { compression: 'gzip', store, cache: createMemoryLayerBlobCache(), signal });
    const blob = { kind: 'blob' as const, ...made };
    const built = buildImage({ layers: [blob], config: CONFIG }, { compression: 'gzip', store, cache: createMemoryLayerBlobCache(), signal, sourceDateEpoch: EPOCH, rewriteTimestamp: true });
    await expect(built).rejects.toThrow(ExportError);
    await expect(built).rejects.toThrow(/its files are not unpacked/);
  });
});
