// The comparison's own reading of images: layers applied in memory (whiteouts, opaque directories, hard links,
// PAX xattrs) and fingerprints relative to a base. The corpus (compat.test.ts) relies on these.
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import tar from 'tar-stream';
import { afterEach, describe, expect, test } from 'vitest';
import { makeTempDir, type TempDir } from '../helpers/cli.js';
import { fingerprintImage } from './fingerprint.js';
import { readImageArchive } from './image-reader.js';

interface Entry {
  readonly name: string;
  readonly type?: 'directory' | 'file' | 'link' | 'symlink';
  readonly content?: string;
  readonly mode?: number;
  readonly linkname?: string;
  readonly pax?: Record<string, string>;
}

async function layerTar(entries: readonly Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) {
    const header = { name: e.name, type: e.type ?? 'file', mode: e.mode ?? 0o644, uid: 0, gid: 0, mtime: new Date(0), ...(e.linkname ? { linkname: e.linkname } : {}), ...(e.pax ? { pax: e.pax } : {}) };
    pack.entry(header, e.content ?? '');
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) {
    if (!Buffer.isBuffer(chunk)) throw new Error('tar-stream produced a non-Buffer chunk');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/** Writes an OCI layout with the given layers (uncompressed) into dir. */
async function writeLayout(dir: string, layers: readonly Buffer[]): Promise<void> {
  const blobs = join(dir, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const put = async (data: Buffer | string): Promise<string> => {
    const digest = sha(data);
    await writeFile(join(blobs, digest), data);
    return `sha256:${digest}`;
  };
  const layerDigests = await Promise.all(layers.map((l) => put(l)));
  const config = JSON.stringify({ os: 'linux', architecture: 'amd64', config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: layerDigests }, history: layers.map(() => ({ created_by: 'test' })) });
  const manifest = JSON.stringify({ schemaVersion: 2, config: { digest: await put(config) }, layers: layerDigests.map((digest) => ({ digest })) });
  await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ digest: await put(manifest) }] }));
}

const BASE_LAYER: readonly Entry[] = [
  { name: 'a/', type: 'directory', mode: 0o755 },
  { name: 'a/x', content: 'x' },
  { name: 'a/y', content: 'y' },
  { name: 'a/h', type: 'link', linkname: 'a/x' },
  { name: 'b/', type: 'directory', mode: 0o755 },
  { name: 'b/z', content: 'z' },
  { name: 'c', type: 'symlink', linkname: 'a/x' },
];

describe('compat image reading', () => {
  let tmp: TempDir | undefined;
  afterEach(async () => {
    await tmp?.[Symbol.asyncDispose]();
  });

  test('applies whiteouts, opaque directories, hard links and xattrs, and fingerprints relative to the base', async () => {
    tmp = await makeTempDir('tbuild-compat-unit-');
    const base = await layerTar(BASE_LAYER);
    const upper = await layerTar([
      { name: 'a/.wh.y' },
      { name: 'b/', type: 'directory', mode: 0o700 },
      { name: 'b/.wh..wh..opq' },
      { name: 'b/new', content: 'new' },
      { name: 'd', content: 'cap', mode: 0o4755, pax: { 'SCHILY.xattr.user.colour': 'blue' } },
    ]);
    await writeLayout(join(tmp.path, 'base'), [base]);
    await writeLayout(join(tmp.path, 'image'), [base, upper]);
    const baseImage = await readImageArchive(join(tmp.path, 'base'));
    const image = await readImageArchive(join(tmp.path, 'image'));

    expect([...image.rootfs.keys()].sort()).toEqual(['/a', '/a/h', '/a/x', '/b', '/b/new', '/c', '/d']);
    expect(image.rootfs.get('/a/h')?.inode).toBe(image.rootfs.get('/a/x')?.inode);
    const fingerprint = fingerprintImage(image, [{ name: 'base', image: baseImage }]);
    expect(fingerprint.base).toBe('base');
    expect(fingerprint.layers).toBe(1);
    expect(fingerprint.history).toEqual([{ created_by: 'test', empty_layer: false }]);
    expect(fingerprint.paths).toEqual({
      '/a/y': { change: 'removed' },
      '/b': { change: 'changed', type: 'dir', mode: '0700', uid: 0, gid: 0 },
      '/b/new': { change: 'added', type: 'file', mode: '0644', uid: 0, gid: 0, size: 3, sha256: sha('new') },
      '/b/z': { change: 'removed' },
      '/d': { change: 'added', type: 'file', mode: '4755', uid: 0, gid: 0, size: 3, sha256: sha('cap'), xattrs: { 'user.colour': Buffer.from('blue').toString('base64') } },
    });
    expect(fingerprintImage(baseImage, []).paths['/a/h']).toMatchObject({ change: 'added', hardlinks: ['/a/x'] });
  });
});
