import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExportError } from '../../../base/errors.js';
import { MEDIA_TYPES, type ImageConfig } from '../../../base/oci.js';
import { createLocalContentStore } from '../../../cache/content-store.js';
import { buildImage, createMemoryLayerBlobCache, dockerLayerMediaType, type SnapshotLayer } from '../../../exporter/index.js';
import { storePlatformIndex } from '../../../exporter/lazy.js';
import { makeTempDir } from '../../helpers/cli.js';

const signal = new AbortController().signal;
const CONFIG: ImageConfig = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, history: [{ created_by: 'a' }, { created_by: 'b' }] };

async function snapshot(root: string, id: string): Promise<SnapshotLayer> {
  const dir = join(root, id);
  await mkdir(dir);
  await writeFile(join(dir, id), `${id}\n`);
  return { id, dir };
}

describe('Docker media types (oci-mediatypes=false)', () => {
  it('names layers the Docker way, zstd keeping its OCI type as in BuildKit', () => {
    expect(dockerLayerMediaType(MEDIA_TYPES.ociLayerGzip)).toBe(MEDIA_TYPES.dockerLayerGzip);
    expect(dockerLayerMediaType(MEDIA_TYPES.ociLayer)).toBe(MEDIA_TYPES.dockerLayer);
    expect(dockerLayerMediaType(MEDIA_TYPES.ociLayerZstd)).toBe(MEDIA_TYPES.ociLayerZstd);
  });

  it('writes a Docker manifest and config of the same blobs and config, without layer annotations, listed by a Docker manifest list', async () => {
    await using tmp = await makeTempDir();
    const store = createLocalContentStore(join(tmp.path, 'content'));
    const layers = [await snapshot(tmp.path, 'base'), await snapshot(tmp.path, 'top')];
    const options = { compression: 'gzip' as const, store, cache: createMemoryLayerBlobCache(), signal, sourceDateEpoch: 10, rewriteTimestamp: true };
    const oci = await buildImage({ layers, config: CONFIG }, options);
    const docker = await buildImage({ layers, config: CONFIG, annotations: { a: 'b' } }, { ...options, mediaTypes: 'docker' });
    expect(docker.manifest.mediaType).toBe(MEDIA_TYPES.dockerManifest);
    expect(docker.manifestDescriptor.mediaType).toBe(MEDIA_TYPES.dockerManifest);
    expect(docker.manifest.config).toEqual({ ...oci.manifest.config, mediaType: MEDIA_TYPES.dockerConfig });
    // The OCI image marks rewritten layers; Docker's form has no layer annotations (BuildKit drops them).
    expect(oci.manifest.layers.every((l) => l.annotations !== undefined)).toBe(true);
    expect(docker.manifest.layers).toEqual(oci.manifest.layers.map(({ annotations: _a, ...l }) => ({ ...l, mediaType: MEDIA_TYPES.dockerLayerGzip })));
    // Manifest annotations stay, as BuildKit keeps them with Docker media types.
    expect(docker.manifest.annotations).toEqual({ a: 'b' });
    const plain = await buildImage({ layers, config: CONFIG }, { ...options, compression: 'uncompressed', forceCompression: true, mediaTypes: 'docker' });
    expect(plain.manifest.layers.map((l) => l.mediaType)).toEqual([MEDIA_TYPES.dockerLayer, MEDIA_TYPES.dockerLayer]);

    const list = await storePlatformIndex([docker, plain], store, { signal });
    expect(list.index.mediaType).toBe(MEDIA_TYPES.dockerManifestList);
    expect(list.descriptor.mediaType).toBe(MEDIA_TYPES.dockerManifestList);
    expect(list.index.manifests.map((m) => m.mediaType)).toEqual([MEDIA_TYPES.dockerManifest, MEDIA_TYPES.dockerManifest]);
    expect((await storePlatformIndex([oci, docker], store, { signal })).index.mediaType).toBe(MEDIA_TYPES.ociIndex);
    await expect(storePlatformIndex([docker], store, { annotations: { k: 'v' }, signal })).rejects.toThrow(ExportError);
  });
});
