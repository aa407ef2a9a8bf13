import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readFile, readdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageBase, ImageConfig } from '../../base/oci.js';
import { createLocalContentStore } from '../../cache/content-store.js';
import { readTar } from '../../cache/layer/index.js';
import { buildImage, createMemoryLayerBlobCache, type BuiltImage } from '../../exporter/index.js';
import { writeDockerArchive, writeLocalDir, writeOciArchive, writeRootfsTar } from '../../exporter/lazy.js';
import { lsetxattr, makedev, mknod, S_IFCHR } from '../../native/index.js';


const signal = new AbortController().signal;
const EPOCH = 1_700_000_000;
/** keep/a's time, before the epoch: the tar and local outputs give it the epoch all the same, as BuildKit's do. */
const OLD_TIME = EPOCH - 86_400;
let root: string;
let layers: { id: string; dir: string }[];
let image: BuiltImage;
const store = (): ReturnType<typeof createLocalContentStore> => createLocalContentStore(join(root, 'store'));

async function makeSnapshots(): Promise<void> {
  const base = join(root, 'snap-base');
  const upper = join(root, 'snap-upper');
  await mkdir(join(base, 'etc'), { recursive: true });
  await mkdir(join(base, 'opq', 'sub'), { recursive: true });
  await mkdir(join(base, 'keep'));
  await writeFile(join(base, 'etc', 'hostname'), 'base\n');
  await writeFile(join(base, 'etc', 'removed'), 'to be deleted\n');
  await writeFile(join(base, 'keep', 'a'), 'a\n');
  await utimes(join(base, 'keep', 'a'), OLD_TIME, OLD_TIME);
  await writeFile(join(base, 'opq', 'old1'), 'old\n');
  await writeFile(join(base, 'opq', 'sub', 'old2'), 'old\n');
  await symlink('etc/hostname', join(base, 'link'));
  await mkdir(join(upper, 'etc'), { recursive: true });
  await mkdir(join(upper, 'opq'));
  await writeFile(join(upper, 'new.txt'), 'new\n');
  mknod(join(upper, 'etc', 'removed'), S_IFCHR, makedev(0, 0));
  lsetxattr(join(upper, 'opq'), 'trusted.overlay.opaque', Buffer.from('y'));
  await writeFile(join(upper, 'opq', 'fresh'), 'fresh\n');
  layers = [
    { id: 'base', dir: base },
    { id: 'upper', dir: upper },
  ];
}

const config: ImageConfig = {
  architecture: 'amd64',
  os: 'linux',
  created: '2030-01-01T00:00:00Z',
  config: { Cmd: ['/bin/sh'], Env: ['PATH=/usr/bin:/bin'] },
  rootfs: { type: 'layers', diff_ids: [] },
  history: [{ created: '2030-01-01T00:00:00Z', created_by: 'base' }, { created_by: 'upper' }],
};
/** The config's first history entry came with a base image (whose layers are not part of this test). */
const BASE: ImageBase = { diffIds: [], historyLength: 1 };

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'tbuild-export-'));
  await makeSnapshots();
  image = await buildImage({ layers, config }, { compression: 'gzip', sourceDateEpoch: EPOCH, base: BASE, store: store(), cache: createMemoryLayerBlobCache(), signal });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

async function expectMergedTree(dir: string): Promise<void> {
  expect(await readFile(join(dir, 'new.txt'), 'utf8')).toBe('new\n');
  expect(await readFile(join(dir, 'etc', 'hostname'), 'utf8')).toBe('base\n');
  expect(await readFile(join(dir, 'keep', 'a'), 'utf8')).toBe('a\n');
  expect(existsSync(join(dir, 'etc', 'removed'))).toBe(false);
  expect((await readdir(join(dir, 'opq'))).sort()).toEqual(['fresh']);
  expect((await lstat(join(dir, 'link'))).isSymbolicLink()).toBe(true);
}

describe('exporter outputs', () => {
  it('builds a reproducible image dated at the epoch, its layers keeping their file times', async () => {
    // With an epoch a base's entry keeps its own date, as BuildKit's exporter keeps base history (moby/buildkit#4614),
    // and what the build added undated is dated at the epoch. The image is dated by its last dated entry, as BuildKit
    // dates it.
    const epoch = new Date(EPOCH * 1000).toISOString().replace(/\.000Z$/, 'Z');
    expect(image.config.history?.map((h) => h.created)).toEqual(['2030-01-01T00:00:00Z', epoch]);
    expect(image.config.created).toBe(epoch);
    expect(image.config.rootfs.diff_ids).toHaveLength(2);
    expect(image.manifestDescriptor.platform).toEqual({ os: 'linux', architecture: 'amd64' });
    const again = await buildImage({ layers: layers.map((l) => ({ ...l, id: `${l.id}-2` })), config }, {
      compression: 'gzip', sourceDateEpoch: EPOCH, base: BASE, store: store(), cache: createMemoryLayerBlobCache(), signal,
    });
    expect(again.manifestDescriptor.digest).toBe(image.manifestDescriptor.digest);
    // As in BuildKit, the epoch alone leaves file times in the layers as they are (rewrite-timestamp clamps them).
    const baseTimes = new Map<string, number>();
    const baseBlob = image.layers[0];
    if (baseBlob === undefined) throw new Error('the image has no layer');
    const tar = gunzipSync(await readFile(store().blobPath(baseBlob.descriptor.digest)));
    for await (const entry of readTar(Readable.from([tar]))) baseTimes.set(entry.header.name, entry.header.mtime);
    expect(baseTimes.get('keep/a')).toBe(OLD_TIME);
    expect(baseTimes.get('etc/hostname')).toBeGreaterThan(EPOCH);
  });

  it('writes an OCI archive that skopeo, oci-image-tool and umoci accept', async () => {
    const archive = join(root, 'image.oci.tar');
    await writeOciArchive(image, store(), archive, { names: ['example.com/test/app:v1'], sourceDateEpoch: EPOCH, signal });
    const second = join(root, 'image2.oci.tar');
    await writeOciArchive(image, store(), second, { names: ['example.com/test/app:v1'], sourceDateEpoch: EPOCH, signal });
    expect((await readFile(second)).equals(await readFile(archive))).toBe(true);

    const inspected = JSON.parse(run('skopeo', ['inspect', `oci-archive:${archive}`])) as { Layers: string[]; Os: string };
    expect(inspected.Layers).toEqual(image.layers.map((l) => l.descriptor.digest));
    expect(inspected.Os).toBe('linux');

    const layout = join(root, 'layout');
    await mkdir(layout);
    run('tar', ['-xf', archive, '-C', layout]);
    const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: { annotations: Record<string, string> }[] };
    expect(index.manifests[0]?.annotations).toEqual({
      'io.containerd.image.name': 'example.com/test/app:v1',
      'org.opencontainers.image.ref.name': 'v1',
    });
    // "image" autodetects an image layout directory and checks every ref (its tar mode fails on any tar).
    run('oci-image-tool', ['validate', '--type', 'image', layout]);

    const bundle = join(root, 'bundle');
    run('umoci', ['unpack', '--image', `${layout}:v1`, bundle]);
    await expectMergedTree(join(bundle, 'rootfs'));
  });

  it('writes a docker archive whose manifest.json references existing files', async () => {
    const archive = join(root, 'image.docker.tar');
    await writeDockerArchive(image, store(), archive, { names: ['app:1.0'], signal });
    const out = join(root, 'docker');
    await mkdir(out);
    run('tar', ['-xf', archive, '-C', out]);
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as { Config: string; RepoTags: string[]; Layers: string[] }[];
    expect(manifest).toHaveLength(1);
    const [entry] = manifest;
    expect(entry?.RepoTags).toEqual(['app:1.0']);
    expect(entry?.Layers).toHaveLength(2);
    for (const file of [entry?.Config ?? '', ...(entry?.Layers ?? [])]) expect(existsSync(join(out, file))).toBe(true);
    const cfg = JSON.parse(await readFile(join(out, entry?.Config ?? ''), 'utf8')) as ImageConfig;
    expect(cfg.rootfs.diff_ids).toEqual(image.layers.map((l) => l.diffId));
    // skopeo reads the same file as a docker archive.
    const inspected = JSON.parse(run('skopeo', ['inspect', `docker-archive:${archive}`])) as { Layers: string[] };
    expect(inspected.Layers).toHaveLength(2);
  });

  it('merges the snapshots into a local directory without whiteouts', async () => {
    const dest = join(root, 'local');
    await writeLocalDir(layers, dest, { signal });
    // Each file keeps its modification time, which is its access time too (as BuildKit's local exporter writes them).
    // Checked before reading the file moves its access time.
    const kept = await lstat(join(dest, 'keep', 'a'));
    expect([kept.mtimeMs, kept.atimeMs]).toEqual([OLD_TIME * 1000, OLD_TIME * 1000]);
    await expectMergedTree(dest);
    const devices = run('find', [dest, '-type', 'c']);
    expect(devices).toBe('');
  });

  it('gives every file of a local directory the epoch, as BuildKit\'s local exporter does', async () => {
    const dest = join(root, 'local-epoch');
    await writeLocalDir(layers, dest, { signal, sourceDateEpoch: EPOCH });
    const paths = run('find', [dest, '-mindepth', '1']).trim().split('\n');
    expect(paths.length).toBeGreaterThan(5);
    for (const path of paths) {
      const st = await lstat(path);
      // Listing a directory reads it, which moves its access time.
      expect([path, st.mtimeMs, st.isDirectory() ? 'listed' : st.atimeMs]).toEqual([path, EPOCH * 1000, st.isDirectory() ? 'listed' : EPOCH * 1000]);
    }
    await expectMergedTree(dest);
  });

  it('writes the merged rootfs as one tar', async () => {
    const dest = join(root, 'rootfs.tar');
    await writeRootfsTar(layers, dest, { signal, sourceDateEpoch: EPOCH });
    const names: string[] = [];
    const times = new Set<number>();
    for await (const entry of readTar(createReadStream(dest))) {
      names.push(entry.header.name);
      times.add(entry.header.mtime);
    }
    expect(names).toEqual(['etc/', 'etc/hostname', 'keep/', 'keep/a', 'link', 'new.txt', 'opq/', 'opq/fresh']);
    // Every entry, older ones too, is stamped with the epoch, as BuildKit's tar exporter does.
    expect([...times]).toEqual([EPOCH]);
    const extracted = join(root, 'rootfs');
    await mkdir(extracted);
    run('tar', ['-xf', dest, '-C', extracted]);
    await expectMergedTree(extracted);
  });
});
