import { createHash } from 'node:crypto';
import { chmod, chown, link, lstat, lutimes, mkdir, mkdtemp, readdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalContentStore } from '../../../cache/content-store.js';
import { createLayerTar, createMemoryLayerBlobCache, getLayerBlob, GZIP_CHUNK, tarEntries, walkSnapshot } from '../../../exporter/layer/index.js';
import { lsetxattr, makedev, mknod, S_IFCHR } from '../../../native/index.js';

/**
 * A layer's bytes are pinned: the same tree gives the same tar (order, headers, PAX records, xattrs, whiteouts) and the
 * same gzip framing whichever way the export makes them, so every layer digest already published stays.
 * The digests below were produced by the exporter that made the tar on the main thread.
 */
const PINNED = {
  diffId: 'sha256:0c793147278da0b16bbeba7cb264e1b43940c2c78bcb23885fe8fa7cf88da6ac',
  gzip: 'sha256:4746b8c824083bc07e2ed6a6947543f36dffbc5fdd2bb1c878f54ed9c978ab02',
  gzipEpoch: 'sha256:2836d063ff84b0809c4c9a7b5e2b78553bfeaed79c6f62d57f56ebdd0cb5be1c',
  diffIdEpoch: 'sha256:5eff6792b418efd0b4ace1fbd6c3768dddc200740f506e4fc8bc452bbc023d8c',
};

const signal = new AbortController().signal;
let root: string;
let dir: string;

/** bytes returns `length` deterministic bytes seeded by `seed`: text-like when `text`, else hash output (incompressible). */
function bytes(seed: string, length: number, text = false): Buffer {
  const out = Buffer.alloc(length);
  let block = createHash('sha256').update(seed).digest();
  for (let at = 0; at < length; at += block.length) {
    block.copy(out, at, 0, Math.min(block.length, length - at));
    block = createHash('sha256').update(block).digest();
  }
  if (text) for (let i = 0; i < length; i++) out[i] = 0x61 + ((out[i] ?? 0) % 8);
  return out;
}

const T = 1_700_000_000;
const LONG = `${'nested-directory/'.repeat(8)}a-file-name-longer-than-one-hundred-bytes-ü.txt`;

/** makeTree writes an upper-dir-form snapshot: many small files, big ones, hard links, symlinks, xattrs, whiteouts. */
async function makeTree(top: string): Promise<void> {
  await mkdir(join(top, 'small'), { recursive: true });
  for (let i = 0; i < 1500; i++) {
    const sub = join(top, 'small', `d${i % 15}`);
    await mkdir(sub, { recursive: true });
    await writeFile(join(sub, `f${i}`), bytes(`small${i}`, (i * 37) % 3000, i % 2 === 0));
  }
  await mkdir(join(top, 'big'));
  await writeFile(join(top, 'big', 'random.bin'), bytes('random', 3 * GZIP_CHUNK + 777));
  await writeFile(join(top, 'big', 'text.txt'), bytes('text', 2 * GZIP_CHUNK - 5, true));
  await writeFile(join(top, 'big', 'exact.bin'), bytes('exact', GZIP_CHUNK));
  await link(join(top, 'big', 'random.bin'), join(top, 'big', 'random-link'));
  await link(join(top, 'small', 'd3', 'f3'), join(top, 'hard-small'));
  await symlink('../big/text.txt', join(top, 'small', 'to-text'));
  await symlink('/nowhere', join(top, 'dangling'));
  await writeFile(join(top, 'caps'), 'caps');
  lsetxattr(join(top, 'caps'), 'security.capability', Buffer.from('0100000201000000000000000000000000000000', 'hex'));
  lsetxattr(join(top, 'caps'), 'user.note', Buffer.from([0xff, 0x00, 0x80]));
  lsetxattr(join(top, 'big'), 'user.dir', Buffer.from('on a directory'));
  mknod(join(top, 'removed'), S_IFCHR, makedev(0, 0));
  mknod(join(top, 'small', 'removed-too'), S_IFCHR, makedev(0, 0));
  mknod(join(top, 'null'), S_IFCHR | 0o666, makedev(1, 3));
  execFileSync('mkfifo', [join(top, 'fifo')]);
  await mkdir(join(top, 'opaque'));
  lsetxattr(join(top, 'opaque'), 'trusted.overlay.opaque', Buffer.from('y'));
  await writeFile(join(top, 'opaque', 'kept'), 'kept');
  await mkdir(join(top, LONG, '..'), { recursive: true });
  await writeFile(join(top, LONG), bytes('long', 4000));
  await writeFile(join(top, 'owned'), 'owned');
  await chown(join(top, 'owned'), 3_000_000, 1234);
  await chmod(join(top, 'owned'), 0o4750);
  await settle(top);
}

/** settle sets modes and times on every entry (children before their parents), so the tree never depends on the clock. */
async function settle(top: string): Promise<void> {
  let n = 0;
  const visit = async (path: string): Promise<void> => {
    const stat = await lstat(path);
    if (stat.isDirectory()) {
      for (const name of (await readdir(path)).sort()) await visit(join(path, name));
      await chmod(path, 0o755);
    }
    n++;
    if (stat.isSymbolicLink()) await lutimes(path, T, T - n);
    else await utimes(path, T, T - n);
  };
  await visit(top);
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'tbuild-layer-bytes-'));
  dir = join(root, 'snap');
  await mkdir(dir);
  await makeTree(dir);
}, 120_000);
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('layer bytes', () => {
  it('gives the pinned tar and gzip blob', async () => {
    const hash = createHash('sha256');
    for await (const chunk of createLayerTar(dir, { signal })) hash.update(chunk as Buffer);
    expect(`sha256:${hash.digest('hex')}`).toBe(PINNED.diffId);
    const store = createLocalContentStore(join(root, 'store'));
    const blob = await getLayerBlob({ id: 's', dir }, { compression: 'gzip', store, cache: createMemoryLayerBlobCache(), signal });
    expect(blob.diffId).toBe(PINNED.diffId);
    expect(blob.descriptor.digest).toBe(PINNED.gzip);
  });

  it('gives the pinned tar when made on the main thread too (as a small layer is)', async () => {
    const hash = createHash('sha256');
    for await (const chunk of tarEntries(walkSnapshot(dir, { signal }), { signal })) hash.update(chunk);
    expect(`sha256:${hash.digest('hex')}`).toBe(PINNED.diffId);
  });

  it('gives the pinned blob with times clamped to an epoch', async () => {
    const store = createLocalContentStore(join(root, 'store-epoch'));
    const options = { compression: 'gzip' as const, store, cache: createMemoryLayerBlobCache(), signal, sourceDateEpoch: T - 3000, rewriteTimestamp: true };
    const blob = await getLayerBlob({ id: 's', dir }, options);
    expect(blob.diffId).toBe(PINNED.diffIdEpoch);
    expect(blob.descriptor.digest).toBe(PINNED.gzipEpoch);
    const plain = await getLayerBlob({ id: 's', dir }, { ...options, compression: 'uncompressed', store: createLocalContentStore(join(root, 'store-plain')) });
    expect(plain.descriptor.digest).toBe(PINNED.diffIdEpoch);
  });
});
