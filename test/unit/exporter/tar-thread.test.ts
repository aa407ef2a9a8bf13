import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExportError } from '../../../base/errors.js';
import { createLayerTar, GZIP_CHUNK, tarEntries } from '../../../exporter/layer/index.js';
import { layerTarChunks, layerTarChunksOnThread } from '../../../exporter/layer/tar-thread.js';
import type { TreeEntry } from '../../../exporter/tree-entry.js';

const signal = new AbortController().signal;
let root: string;
let dir: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'tbuild-tar-thread-'));
  dir = join(root, 'snap');
  await mkdir(dir);
  for (let i = 0; i < 8; i++) await writeFile(join(dir, `big${i}`), Buffer.alloc(GZIP_CHUNK, i));
  await writeFile(join(dir, 'small'), 'small');
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function digestOfTar(stream: AsyncIterable<unknown>): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** entryWithSize describes a file as listed with `size` bytes, whatever it holds when it is read. */
async function entryWithSize(path: string, size: number): Promise<TreeEntry> {
  const stat = Object.assign(await lstat(path), { size });
  return { rel: 'f', source: path, stat, whiteout: false, opaque: false };
}

async function* only(entry: TreeEntry): AsyncGenerator<TreeEntry> {
  yield entry;
}

describe('layer tar thread', () => {
  it('reports a snapshot it cannot read as an export error, and serves the next export', async () => {
    await expect(digestOfTar(layerTarChunksOnThread(join(root, 'missing'), { signal }).chunks)).rejects.toThrow(ExportError);
    await expect(digestOfTar(layerTarChunksOnThread(join(root, 'missing'), { signal }).chunks)).rejects.toThrow(/missing/);
    expect(await digestOfTar(createLayerTar(dir, { signal }))).toMatch(/^[0-9a-f]{64}$/);
  });

  it('stops a job whose reader aborts or leaves early, and serves the next export the same bytes', async () => {
    const whole = await digestOfTar(createLayerTar(dir, { signal }));
    const controller = new AbortController();
    const aborted = (async () => {
      for await (const _ of createLayerTar(dir, { signal: controller.signal })) controller.abort(new Error('stop here'));
    })();
    await expect(aborted).rejects.toThrow(/stop here|aborted/);
    for await (const _ of createLayerTar(dir, { signal })) break;
    const [a, b] = await Promise.all([digestOfTar(createLayerTar(dir, { signal })), digestOfTar(createLayerTar(dir, { signal }))]);
    expect([a, b]).toEqual([whole, whole]);
  });

  it('makes a small layer on the main thread with the bytes and digest the thread gives', async () => {
    const small = join(root, 'small-tree');
    await mkdir(join(small, 'd'), { recursive: true });
    await writeFile(join(small, 'd', 'a'), 'a'.repeat(5000));
    await writeFile(join(small, 'b'), Buffer.alloc(GZIP_CHUNK + 3, 2));
    const here = layerTarChunks(small, { signal });
    const there = layerTarChunksOnThread(small, { signal });
    const [a, b] = await Promise.all([digestOfTar(here.chunks), digestOfTar(there.chunks)]);
    expect(a).toBe(b);
    expect(here.diffId()).toBe(`sha256:${a}`);
    expect(there.diffId()).toBe(`sha256:${a}`);
  });

  it('refuses files that grew or shrank since they were listed, small or larger than a chunk', async () => {
    const small = join(root, 'changing-small');
    const large = join(root, 'changing-large');
    await writeFile(small, Buffer.alloc(100, 1));
    await writeFile(large, Buffer.alloc(GZIP_CHUNK + 100, 1));
    for (const [path, size] of [
      [small, 100],
      [large, GZIP_CHUNK + 100],
    ] as const) {
      await expect(digestOfTar(tarEntries(only(await entryWithSize(path, size)), { signal }))).resolves.toMatch(/^[0-9a-f]{64}$/);
      await expect(digestOfTar(tarEntries(only(await entryWithSize(path, size - 1)), { signal }))).rejects.toThrow(/grew from/);
      await expect(digestOfTar(tarEntries(only(await entryWithSize(path, size + 1)), { signal }))).rejects.toThrow(/shrank from/);
    }
  });
});
