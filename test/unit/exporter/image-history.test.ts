import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { digestOf } from '../../../base/digest.js';
import { MEDIA_TYPES, type HistoryEntry, type ImageBase, type ImageConfig } from '../../../base/oci.js';
import { createLocalContentStore } from '../../../cache/content-store.js';
import { buildImage, type BlobLayer } from '../../../exporter/index.js';
import { makeTempDir } from '../../helpers/cli.js';

const BASE_TIME = '2020-01-01T00:00:00.000Z';
const T1 = Date.parse('2024-05-01T10:00:00.000Z');
const T2 = Date.parse('2024-05-02T10:00:00.000Z');
const NOW = '2026-11-22T12:00:00.000Z';

function blob(n: number, createdAt?: number): BlobLayer {
  return {
    kind: 'blob',
    descriptor: { mediaType: MEDIA_TYPES.ociLayerGzip, digest: digestOf(`blob ${n}`), size: n },
    diffId: digestOf(`diff ${n}`),
    ...(createdAt === undefined ? {} : { createdAt }),
  };
}

function config(history: HistoryEntry[]): ImageConfig {
  return { architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [] }, history };
}

const unusedCache = {
  get: () => Promise.resolve(undefined),
  set: () => Promise.reject(new Error('blob layers are exported as they are')),
  origin: () => Promise.resolve(undefined),
};

async function build(cfg: ImageConfig, layers: BlobLayer[], extra: { sourceDateEpoch?: number; base?: ImageBase } = {}): Promise<ImageConfig> {
  await using tmp = await makeTempDir();
  const store = createLocalContentStore(join(tmp.path, 'content'));
  const image = await buildImage(
    { layers, config: cfg },
    { compression: 'gzip', created: NOW, store, cache: unusedCache, signal: new AbortController().signal, ...extra },
  );
  return image.config;
}

describe('image history times', () => {
  // FROM base (one layer); ENV; RUN (layer); COPY (layer); CMD
  const history: HistoryEntry[] = [
    { created: BASE_TIME, created_by: 'base layer' },
    { created_by: 'ENV A=1', empty_layer: true },
    { created_by: 'RUN make' },
    { created_by: 'COPY . /app' },
    { created_by: 'CMD ["app"]', empty_layer: true },
  ];

  it('dates what the build added by when each layer was made, and the image by its newest entry', async () => {
    const out = await build(config(history), [blob(1, T1 - 1000), blob(2, T1), blob(3, T2)]);
    const [t1, t2] = [new Date(T1).toISOString(), new Date(T2).toISOString()];
    // ENV before any new layer takes the first new layer's time; CMD takes the layer entry before it.
    expect(out.history?.map((h) => h.created)).toEqual([BASE_TIME, t1, t1, t2, t2]);
    expect(out.created).toBe(t2);
  });

  it('makes the same config from the same layers, whenever it runs', async () => {
    const a = await build(config(history), [blob(1, T1 - 1000), blob(2, T1), blob(3, T2)]);
    const b = await build(config(history), [blob(1, T1 - 1000), blob(2, T1), blob(3, T2)]);
    expect(b).toEqual(a);
  });

  it('dates metadata-only additions by the base, and falls back to now only when nothing has a time', async () => {
    const metaOnly: HistoryEntry[] = [{ created: BASE_TIME, created_by: 'base layer' }, { created_by: 'CMD ["sh"]', empty_layer: true }];
    expect((await build(config(metaOnly), [blob(1, T1)])).created).toBe(BASE_TIME);
    const undated = await build(config([{ created_by: 'COPY x /', empty_layer: false }, { created_by: 'CMD ["sh"]', empty_layer: true }]), [blob(1)]);
    expect(undated.history?.map((h) => h.created)).toEqual([NOW, NOW]);
    expect(undated.created).toBe(NOW);
  });

  // BuildKit's exporter keeps the base image's entries as they are, even when dated after the epoch, and its Dockerfile
  // frontend dates every entry the build adds at the epoch: the layers' own times do not count.
  it('keeps the times the entries carry with SOURCE_DATE_EPOCH, and dates the image by its newest entry', async () => {
    const epoch = Date.parse('2021-06-01T00:00:00.000Z') / 1000;
    const at = new Date(epoch * 1000).toISOString();
    const later = '2023-03-03T00:00:00.000Z';
    const dated: HistoryEntry[] = [
      { created: BASE_TIME, created_by: 'base layer' },
      { created: later, created_by: 'base CMD', empty_layer: true },
      { created: at, created_by: 'RUN make' },
      { created: at, created_by: 'CMD ["app"]', empty_layer: true },
    ];
    const base = { diffIds: [blob(1).diffId], historyLength: 2 };
    const out = await build(config(dated), [blob(1, T1 - 1000), blob(2, T2)], { sourceDateEpoch: epoch, base });
    expect(out.history?.map((h) => h.created)).toEqual([BASE_TIME, later, at, at]);
    expect(out.created).toBe(at);
  });

  it('dates what the build added at the epoch when it is undated or later, and leaves the base entries as they are', async () => {
    const epoch = Date.parse('2021-06-01T00:00:00.000Z') / 1000;
    const at = '2021-06-01T00:00:00Z';
    const entries: HistoryEntry[] = [
      { created: '2023-03-03T00:00:00.000Z', created_by: 'base layer' },
      { created_by: 'RUN make' },
      { created: '2024-01-01T00:00:00Z', created_by: 'COPY . /' },
      { created: BASE_TIME, created_by: 'CMD ["app"]', empty_layer: true },
    ];
    const out = await build(config(entries), [blob(1), blob(2), blob(3)], { sourceDateEpoch: epoch, base: { diffIds: [blob(1).diffId], historyLength: 1 } });
    expect(out.history?.map((h) => h.created)).toEqual(['2023-03-03T00:00:00.000Z', at, at, BASE_TIME]);
    expect(out.created).toBe(BASE_TIME);
    // Without a base image every entry is the build's.
    expect((await build(config(entries), [blob(1), blob(2), blob(3)], { sourceDateEpoch: epoch })).history?.[0]?.created).toBe(at);
  });

  it('dates an image that adds nothing by its base, and one with no dated entry at the epoch', async () => {
    const epoch = Date.parse('2021-06-01T00:00:00.000Z') / 1000;
    const base = { diffIds: [blob(1).diffId], historyLength: 1 };
    expect((await build(config([{ created: BASE_TIME, created_by: 'base layer' }]), [blob(1, T1)], { sourceDateEpoch: epoch, base })).created).toBe(BASE_TIME);
    const undated = await build(config([{ created_by: 'COPY x /' }]), [blob(1, T1)], { sourceDateEpoch: epoch });
    expect(undated.history?.map((h) => h.created)).toEqual(['2021-06-01T00:00:00Z']);
    expect(undated.created).toBe('2021-06-01T00:00:00Z');
  });
});
