import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageConfig } from '../../base/oci.js';
import { createLocalContentStore } from '../../cache/content-store.js';
import { buildImage, createLayerTar, createMemoryLayerBlobCache } from '../../exporter/index.js';
import { GZIP_CHUNK } from '../../exporter/layer/index.js';
import { writeDockerArchive } from '../../exporter/lazy.js';
import { useDockerEngine } from '../fixtures/docker-engine.js';

const signal = new AbortController().signal;
const EPOCH = 1_700_000_000;
const engine = useDockerEngine();
let root: string;
let snapshot: { id: string; dir: string };
const store = (): ReturnType<typeof createLocalContentStore> => createLocalContentStore(join(root, 'store'));
const config: ImageConfig = { architecture: 'amd64', os: 'linux', config: { Cmd: ['/bin/sh'] }, rootfs: { type: 'layers', diff_ids: [] } };
const sha256 = (data: Buffer): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'tbuild-gzip-layers-'));
  // A layer of several gzip chunks, its times as they are (the epoch alone leaves them, as BuildKit does): random bytes (incompressible), text (compressible) and small files.
  const dir = join(root, 'snap');
  await mkdir(join(dir, 'usr', 'share', 'doc'), { recursive: true });
  await writeFile(join(dir, 'usr', 'blob.bin'), randomBytes(2 * GZIP_CHUNK + 777));
  await writeFile(join(dir, 'usr', 'share', 'doc', 'changelog'), 'fixed the parser; faster export\n'.repeat(60_000));
  for (let i = 0; i < 50; i++) await writeFile(join(dir, 'usr', 'share', 'doc', `note-${i}`), `note ${i}\n`.repeat(i + 1));
  snapshot = { id: 'snap', dir };
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function tarOf(dir: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of createLayerTar(dir, { signal })) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

describe('gzip layers made on worker threads', () => {
  it('are the same bytes build after build, one gzip member per chunk of the tar, whose digest is the diff ID', async () => {
    const build = (id: string) =>
      buildImage({ layers: [{ ...snapshot, id }], config }, { compression: 'gzip', sourceDateEpoch: EPOCH, store: store(), cache: createMemoryLayerBlobCache(), signal });
    const one = await build('a');
    const two = await build('b');
    expect(two.manifestDescriptor.digest).toBe(one.manifestDescriptor.digest);
    const [layer] = one.layers;
    if (layer === undefined) throw new Error('the image has no layer');
    const blob = await readFile(store().blobPath(layer.descriptor.digest));
    expect(sha256(blob)).toBe(layer.descriptor.digest);
    expect(blob.length).toBe(layer.descriptor.size);
    // gunzip reads the whole stream back to the layer's tar, whose digest the config records.
    const tar = execFileSync('gzip', ['-dc'], { input: blob, maxBuffer: 1 << 27 });
    expect(tar.length).toBeGreaterThan(3 * GZIP_CHUNK);
    expect(one.config.rootfs.diff_ids).toEqual([sha256(tar)]);
    expect(sha256(tar)).toBe(sha256(await tarOf(snapshot.dir)));
    // The bytes tbuild has always written: each chunk of the tar as a member of its own, so image digests stay.
    const members: Buffer[] = [];
    for (let offset = 0; offset < tar.length; offset += GZIP_CHUNK) members.push(gzipSync(tar.subarray(offset, offset + GZIP_CHUNK), { level: 6 }));
    expect(blob.equals(Buffer.concat(members))).toBe(true);
    expect(layer.diffId).toBe(sha256(tar));
  });

  it('load into docker, which finds the diff IDs of the config', async () => {
    const image = await buildImage({ layers: [snapshot], config }, { compression: 'gzip', sourceDateEpoch: EPOCH, store: store(), cache: createMemoryLayerBlobCache(), signal });
    const name = `tbuild-gzip-layers:${Date.now()}`;
    const archive = join(root, 'image.docker.tar');
    await writeDockerArchive(image, store(), archive, { names: [name], signal });
    // A docker archive holds the layer as its tar: skopeo names it by its diff ID.
    const inspected = JSON.parse(execFileSync('skopeo', ['inspect', `docker-archive:${archive}`], { encoding: 'utf8' })) as { Layers: string[] };
    expect(inspected.Layers).toEqual(image.config.rootfs.diff_ids);
    const load = await engine.docker('load', '-i', archive);
    expect(load.code, load.stderr).toBe(0);
    try {
      const out = await engine.docker('image', 'inspect', '--format', '{{json .RootFS.Layers}}', name);
      expect(out.code, out.stderr).toBe(0);
      expect(JSON.parse(out.stdout)).toEqual(image.config.rootfs.diff_ids);
    } finally {
      expect((await engine.docker('rmi', name)).code).toBe(0);
    }
  });
});
