import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { digestOf } from '../../../base/digest.js';
import { ContentError } from '../../../base/errors.js';
import { createLocalContentStore, type ContentStore } from '../../../cache/content-store.js';
import { makeTempDir, type TempDir } from '../../helpers/cli.js';

describe('local content store', () => {
  let tmp: TempDir;
  let store: ContentStore;
  const signal = new AbortController().signal;
  beforeEach(async () => {
    tmp = await makeTempDir();
    store = createLocalContentStore(tmp.path);
  });
  afterEach(async () => {
    await tmp[Symbol.asyncDispose]();
  });

  it('stores a streamed blob under its digest and reads it back', async () => {
    const info = await store.writeBlob(Readable.from([Buffer.from('hello '), Buffer.from('world')]), {}, { signal });
    expect(info).toEqual({ digest: digestOf('hello world'), size: 11 });
    expect(await readFile(store.blobPath(info.digest), 'utf8')).toBe('hello world');
    expect(await store.info(info.digest)).toEqual(info);
  });

  it('walks its blobs with their sizes, lists files that are no blob apart, and removes a blob at once', async () => {
    const empty: unknown[] = [];
    for await (const blob of store.walk()) empty.push(blob);
    expect(empty).toEqual([]);
    const a = await store.writeBlob('a', {}, { signal });
    const b = await store.writeBlob('bbb', {}, { signal });
    await writeFile(join(tmp.path, 'blobs', 'sha256', 'stray'), 'x');
    const walked: unknown[] = [];
    for await (const blob of store.walk()) walked.push(blob);
    expect(walked).toEqual(expect.arrayContaining([a, b]));
    expect(walked).toHaveLength(2);
    expect(await store.strays()).toEqual([join(tmp.path, 'blobs', 'sha256', 'stray')]);
    store.deleteBlobSync(a.digest);
    expect(await store.info(a.digest)).toBeUndefined();
  });

  it('tells a lease of every blob it looks for or writes, before it does', async () => {
    const leased: string[] = [];
    const leasing = createLocalContentStore(join(tmp.path, 'leased'), { lease: { addBlob: (d) => Promise.resolve(void leased.push(d)) } });
    const written = await leasing.writeBlob('new', {}, { signal });
    await leasing.info(digestOf('absent'));
    await leasing.writeBlob('new', { digest: written.digest }, { signal });
    expect(leased).toEqual([written.digest, digestOf('absent'), written.digest]);
  });

  it('refuses a blob whose digest differs and keeps nothing of it', async () => {
    const err = await store.writeBlob('tampered', { digest: digestOf('original') }, { signal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContentError);
    expect((err as ContentError).code).toBe('DIGEST_MISMATCH');
    expect(await store.info(digestOf('tampered'))).toBeUndefined();
    expect(await readdir(join(tmp.path, 'ingest'))).toEqual([]);
  });

  it('refuses a blob of the wrong size', async () => {
    await expect(store.writeBlob('abc', { size: 4 }, { signal })).rejects.toThrow(/expected 4 bytes, got 3/);
  });

  it('does not write a blob it already has', async () => {
    const first = await store.writeBlob('same', {}, { signal });
    const second = await store.writeBlob(Readable.from(['same']), { digest: first.digest, size: 4 }, { signal });
    expect(second).toEqual(first);
  });

  it('leaves no partial file when the write is aborted', async () => {
    const abort = new AbortController();
    const source = new Readable({ read() {} });
    source.push('partial');
    const pending = store.writeBlob(source, {}, { signal: abort.signal });
    abort.abort(new Error('stop'));
    await expect(pending).rejects.toThrow();
    expect(await readdir(join(tmp.path, 'ingest'))).toEqual([]);
  });
});
