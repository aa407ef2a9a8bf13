import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { digestOf } from '../../../base/digest.js';
import { ContentError } from '../../../base/errors.js';
import { MEDIA_TYPES } from '../../../base/oci.js';
import { createLocalContentStore, type ContentStore } from '../../../cache/content-store.js';
import { exportLayerBlob } from '../../../exporter/index.js';
import { createMemoryLayerBlobCache, getLayerBlob, type LayerBlob, type LayerBlobCache } from '../../../exporter/layer/index.js';
import { makeTempDir } from '../../helpers/cli.js';

const signal = new AbortController().signal;

/** A blob cache that knows one snapshot as unpacked from `origin`. */
function cacheWithOrigin(snapshotId: string, origin: LayerBlob): LayerBlobCache {
  const memory = createMemoryLayerBlobCache();
  return { ...memory, origin: (id) => Promise.resolve(id === snapshotId ? origin : undefined) };
}

/** gzipLayer stores the gzip layer blob of a small folder and returns it with an empty folder standing for its snapshot. */
async function gzipLayer(root: string, store: ContentStore): Promise<{ blob: LayerBlob; empty: string }> {
  const dir = join(root, 'files');
  await mkdir(join(dir, 'etc'), { recursive: true });
  await writeFile(join(dir, 'etc', 'hello'), 'hello\n');
  const blob = await getLayerBlob({ id: 'built', dir }, { compression: 'gzip', store, cache: createMemoryLayerBlobCache(), signal });
  const empty = join(root, 'empty');
  await mkdir(empty);
  return { blob, empty };
}

describe('layer blobs of another compression', () => {
  it('are converted from the blob a snapshot was unpacked from, keeping its diff ID, instead of archiving the files again', async () => {
    await using tmp = await makeTempDir();
    const store = createLocalContentStore(join(tmp.path, 'content'));
    const { blob, empty } = await gzipLayer(tmp.path, store);
    // The snapshot's folder is empty: a new archive of it would have another diff ID.
    const cache = cacheWithOrigin('pulled', blob);
    for (const compression of ['uncompressed', 'zstd'] as const) {
      const converted = await getLayerBlob({ id: 'pulled', dir: empty }, { compression, forceCompression: true, store, source: store, cache, signal });
      expect(converted.diffId).toBe(blob.diffId);
      expect(converted.descriptor.mediaType).toBe(compression === 'zstd' ? MEDIA_TYPES.ociLayerZstd : MEDIA_TYPES.ociLayer);
      if (compression === 'uncompressed') expect(converted.descriptor.digest).toBe(blob.diffId);
      expect(await store.info(converted.descriptor.digest)).toBeDefined();
    }
  });

  it('are converted from an imported blob that is here, and not at all from one that is not', async () => {
    await using tmp = await makeTempDir();
    const store = createLocalContentStore(join(tmp.path, 'content'));
    const { blob } = await gzipLayer(tmp.path, store);
    const options = { compression: 'uncompressed' as const, forceCompression: true, store, source: store, cache: createMemoryLayerBlobCache(), signal };
    const converted = await exportLayerBlob({ kind: 'blob', ...blob }, options);
    expect(converted).toEqual({ descriptor: { mediaType: MEDIA_TYPES.ociLayer, digest: blob.diffId, size: converted.descriptor.size }, diffId: blob.diffId });
    const missing = { kind: 'blob' as const, descriptor: { ...blob.descriptor, digest: digestOf('elsewhere') }, diffId: blob.diffId };
    await expect(exportLayerBlob(missing, options)).rejects.toThrow(/its blob is not here/);
  });

  it('are refused when the blob does not unpack to its diff ID', async () => {
    await using tmp = await makeTempDir();
    const store = createLocalContentStore(join(tmp.path, 'content'));
    const { blob, empty } = await gzipLayer(tmp.path, store);
    const cache = cacheWithOrigin('pulled', { ...blob, diffId: digestOf('another archive') });
    const made = getLayerBlob({ id: 'pulled', dir: empty }, { compression: 'zstd', forceCompression: true, store, source: store, cache, signal });
    await expect(made).rejects.toThrow(ContentError);
    await expect(made).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
  });
});
