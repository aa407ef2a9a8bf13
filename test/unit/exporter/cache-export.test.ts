import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { digestOf } from '../../../base/digest.js';
import { ExportError } from '../../../base/errors.js';
import { MEDIA_TYPES } from '../../../base/oci.js';
import { CACHE_ARTIFACT_TYPE, CACHE_CONFIG_MEDIA_TYPE, type CacheConfig } from '../../../cache/cache-config.js';
import { createLocalContentStore } from '../../../cache/content-store.js';
import type { CacheArtifact } from '../../../exporter/index.js';
import { writeCacheArtifact } from '../../../exporter/lazy.js';
import { makeTempDir } from '../../helpers/cli.js';

const CONFIG: CacheConfig = {
  schemaVersion: 1,
  layers: [
    { mediaType: MEDIA_TYPES.ociLayerGzip, digest: digestOf('gzip layer'), size: 10, diffId: digestOf('diff 1') },
    { mediaType: MEDIA_TYPES.ociLayer, digest: digestOf('diff 2'), size: 20, diffId: digestOf('diff 2') },
    { mediaType: MEDIA_TYPES.ociLayerZstd, digest: digestOf('zstd layer'), size: 30, diffId: digestOf('diff 3') },
  ],
  records: [{ key: digestOf('key'), layer: 2, parent: [0, 1] }],
};

async function write(form: { imageManifest: boolean; ociMediaTypes: boolean }): Promise<{ artifact: CacheArtifact; doc: Record<string, unknown> }> {
  await using tmp = await makeTempDir();
  const store = createLocalContentStore(join(tmp.path, 'content'));
  const artifact = await writeCacheArtifact(CONFIG, { ...form, store, signal: new AbortController().signal });
  const doc = JSON.parse(Buffer.from(artifact.document).toString('utf8')) as Record<string, unknown>;
  return { artifact, doc };
}

describe('writeCacheArtifact', () => {
  it('writes an OCI image manifest whose config is the cache config (image-manifest=true, the default)', async () => {
    const { artifact, doc } = await write({ imageManifest: true, ociMediaTypes: true });
    expect(doc['mediaType']).toBe(MEDIA_TYPES.ociManifest);
    expect(artifact.documentMediaType).toBe(MEDIA_TYPES.ociManifest);
    expect(doc['artifactType']).toBe(CACHE_ARTIFACT_TYPE);
    expect(doc['config']).toEqual({ mediaType: CACHE_CONFIG_MEDIA_TYPE, digest: artifact.config.digest, size: artifact.config.size });
    expect((doc['layers'] as { mediaType: string }[]).map((l) => l.mediaType)).toEqual([MEDIA_TYPES.ociLayerGzip, MEDIA_TYPES.ociLayer, MEDIA_TYPES.ociLayerZstd]);
  });

  it('writes an OCI index listing the layers and the cache config (image-manifest=false)', async () => {
    const { doc } = await write({ imageManifest: false, ociMediaTypes: true });
    expect(doc['mediaType']).toBe(MEDIA_TYPES.ociIndex);
    const manifests = doc['manifests'] as { mediaType: string }[];
    expect(manifests.map((m) => m.mediaType)).toEqual([MEDIA_TYPES.ociLayerGzip, MEDIA_TYPES.ociLayer, MEDIA_TYPES.ociLayerZstd, CACHE_CONFIG_MEDIA_TYPE]);
  });

  it('writes a Docker manifest list with Docker layer types with oci-mediatypes=false (zstd keeps its OCI type)', async () => {
    const { doc } = await write({ imageManifest: false, ociMediaTypes: false });
    expect(doc['mediaType']).toBe(MEDIA_TYPES.dockerManifestList);
    expect(doc['artifactType']).toBeUndefined();
    const manifests = doc['manifests'] as { mediaType: string }[];
    expect(manifests.map((m) => m.mediaType)).toEqual([MEDIA_TYPES.dockerLayerGzip, MEDIA_TYPES.dockerLayer, MEDIA_TYPES.ociLayerZstd, CACHE_CONFIG_MEDIA_TYPE]);
  });

  it('refuses an image manifest with Docker media types, as BuildKit does', async () => {
    await expect(write({ imageManifest: true, ociMediaTypes: false })).rejects.toThrow(ExportError);
  });
});
