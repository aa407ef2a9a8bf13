import { readdirSync } from 'node:fs';
import { chmod, mkdir, rename, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { diskUsage } from '../../../cache/snapshotter.js';
import { createDirectoryView, createLayeredView } from '../../../cache/fs-view.js';
import { openMetadataStore, type ChecksumMemo, type MetadataStore } from '../../../cache/metadata.js';
import { applyCopy, LayerUsage } from '../../../solver/ops/copy.js';
import { computeContextChecksum } from '../../../solver/ops/context-checksum.js';
import { ContextMemo } from '../../../solver/ops/context-memo.js';
import { makeTempDir, type TempDir } from '../../helpers/cli.js';

const signal = new AbortController().signal;
let tmp: TempDir;
let ctx: string;
let meta: MetadataStore;
let stores = 0;
const context = (): { dir: string; isExcluded: (rel: string) => boolean } => ({ dir: ctx, isExcluded: (rel) => rel === 'skipped' });
// Far enough ahead that every path counts as settled (not changed within the racy window).
const later = (): number => Date.now() + 60_000;

beforeEach(async () => {
  tmp = await makeTempDir('tbuild-checksum-');
  ctx = join(tmp.path, 'ctx');
  await mkdir(join(ctx, 'a', 'b'), { recursive: true });
  await writeFile(join(ctx, 'top.txt'), 'top\n');
  await writeFile(join(ctx, 'a', 'one.txt'), 'one\n');
  await writeFile(join(ctx, 'a', 'b', 'two.txt'), 'two\n');
  await writeFile(join(ctx, 'skipped'), 'not selected\n');
  meta = openMetadataStore(join(tmp.path, 'meta'));
});
afterEach(async () => {
  await meta.close();
  await tmp[Symbol.asyncDispose]();
});

/** coarsely waits: file times move in kernel clock ticks, and a change in the same tick as the memo would keep them. */
const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

/** checksum computes with the shared memo. */
const checksum = (now = later()): Promise<string> => computeContextChecksum(context(), [], { meta, signal, now });

/** fresh computes with an empty memo: what the context really holds. */
async function fresh(): Promise<string> {
  const store = openMetadataStore(join(tmp.path, `fresh-${stores++}`));
  try {
    return await computeContextChecksum(context(), [], { meta: store, signal, now: later() });
  } finally {
    await store.close();
  }
}

/** tamper replaces what the memo holds for one directory, to tell whether a later checksum used it. */
async function tamper(dir: string, change: (rec: ChecksumMemo) => ChecksumMemo): Promise<void> {
  const rec = meta.checksums.get(dir);
  if (rec === undefined) throw new Error(`no memo for ${dir}`);
  await meta.checksums.put(dir, change(rec));
}

const fakeDigest = (rec: ChecksumMemo, name: string): ChecksumMemo => {
  const [version, names, identities, digests, listingIdentity, listingNames] = rec;
  const i = names.indexOf(name);
  if (i < 0) throw new Error(`no memo for ${name}`);
  return [version, names, identities, digests.map((d, j) => (j === i ? `sha256:${'0'.repeat(64)}` : d)), listingIdentity, listingNames];
};

const withListing = (rec: ChecksumMemo, names: readonly string[]): ChecksumMemo => [rec[0], rec[1], rec[2], rec[3], rec[4], names];

describe('context checksum', () => {
  it('tells the size of the regular files the sources select, memoised or not, leaving out excluded files and links', async () => {
    await symlink('top.txt', join(ctx, 'link'));
    const sizes: number[] = [];
    await computeContextChecksum(context(), ['a'], { meta, signal, now: later(), onSelected: (n) => sizes.push(n) });
    await computeContextChecksum(context(), [], { meta, signal, now: later(), onSelected: (n) => sizes.push(n) });
    await computeContextChecksum(context(), [], { meta, signal, now: later(), onSelected: (n) => sizes.push(n) });
    // a/one.txt and a/b/two.txt; then top.txt too (not skipped, not the link).
    expect(sizes).toEqual([8, 12, 12]);
  });

  it('tells how many selected bytes it must read and reports them as it reads them, none once the memo knows them', async () => {
    await writeFile(join(ctx, 'a', 'large.bin'), Buffer.alloc(300_000, 7));
    const seen = async (): Promise<{ selected: number[]; read: number }> => {
      const selected: number[] = [];
      let read = 0;
      await computeContextChecksum(context(), ['a'], { meta, signal, now: later(), onSelected: (n, unread) => selected.push(n, unread), onRead: (n) => (read += n) });
      return { selected, read };
    };
    // a/one.txt, a/b/two.txt and the large file, streamed; the second time every file is known by its stat.
    expect(await seen()).toEqual({ selected: [300_008, 300_008], read: 300_008 });
    expect(await seen()).toEqual({ selected: [300_008, 0], read: 0 });
  });

  // Pinned: the checksum keys every COPY of a context, so a change here misses every cache a store holds.
  it('stays the same for the same selected files', async () => {
    await writeFile(join(ctx, 'a', 'large.bin'), Buffer.alloc(300_000, 7));
    await chmod(join(ctx, 'a', 'one.txt'), 0o600);
    await symlink('a/one.txt', join(ctx, 'link'));
    await mkdir(join(ctx, 'empty'));
    expect(await fresh()).toBe('sha256:515264aebb5b05d1cc43067cfefe337c459152aa01c7edbdf1be788418b0e265');
    const store = openMetadataStore(join(tmp.path, 'pinned'));
    try {
      expect(await computeContextChecksum(context(), ['a', 'top.txt'], { meta: store, signal })).toBe('sha256:e652a1acc1218d3212f98fca06b3b2f9dd088c10ce900ae1bf990fc64ca77cc4');
    } finally {
      await store.close();
    }
  });
});

describe('context checksum memo', () => {
  it('reuses file digests and directory listings while nothing changed', async () => {
    const first = await checksum();
    expect(first).toBe(await fresh());
    expect(meta.checksums.get(join(ctx, 'a'))?.[5]).toEqual(['b', 'one.txt']);
    await tamper(join(ctx, 'a'), (rec) => fakeDigest(rec, 'one.txt'));
    expect(await checksum()).not.toBe(first);
    await tamper(join(ctx, 'a'), (rec) => withListing(rec, ['b']));
    // A listing memo is used as it is: the tampered one hides one.txt.
    expect(await checksum()).not.toBe(first);
  });

  it('reads a file again when its content changes with its size and mtime kept', async () => {
    await checksum();
    await tamper(join(ctx, 'a'), (rec) => fakeDigest(rec, 'one.txt'));
    const before = await stat(join(ctx, 'a', 'one.txt'));
    await tick();
    await writeFile(join(ctx, 'a', 'one.txt'), 'ONE\n');
    await utimes(join(ctx, 'a', 'one.txt'), before.atime, before.mtime);
    expect(await checksum()).toBe(await fresh());
  });

  it('notices a changed mode', async () => {
    await checksum();
    await tamper(join(ctx, 'a'), (rec) => fakeDigest(rec, 'one.txt'));
    await tick();
    await chmod(join(ctx, 'a', 'one.txt'), 0o600);
    expect(await checksum()).toBe(await fresh());
  });

  it('lists a directory again when a file is renamed or added', async () => {
    const first = await checksum();
    await tick();
    await rename(join(ctx, 'a', 'b', 'two.txt'), join(ctx, 'a', 'b', 'deux.txt'));
    const renamed = await checksum();
    expect(renamed).not.toBe(first);
    expect(renamed).toBe(await fresh());
    await writeFile(join(ctx, 'a', 'b', 'three.txt'), 'three\n');
    expect(await checksum()).toBe(await fresh());
  });

  it('notices a file replaced by a symlink', async () => {
    await checksum();
    await tamper(join(ctx, 'a'), (rec) => fakeDigest(rec, 'one.txt'));
    await tick();
    await rm(join(ctx, 'a', 'one.txt'));
    await symlink('b/two.txt', join(ctx, 'a', 'one.txt'));
    expect(await checksum()).toBe(await fresh());
  });

  it('lists a directory again when a memoised name is gone', async () => {
    const first = await checksum();
    await tamper(join(ctx, 'a'), (rec) => withListing(rec, ['b', 'ghost', 'one.txt']));
    expect(await checksum()).toBe(first);
  });

  it('ignores a record of the older shape and replaces it', async () => {
    const first = await checksum();
    // Written as an earlier version wrote it: files keyed by name.
    await meta.checksums.put(join(ctx, 'a'), JSON.parse('{"files":{"one.txt":["x","sha256:0"]}}') as ChecksumMemo);
    expect(await checksum()).toBe(first);
    // And as the version before this one: parallel arrays in an object.
    await meta.checksums.put(join(ctx, 'a'), JSON.parse('{"v":2,"names":["one.txt"],"identities":["x"],"digests":["sha256:0"]}') as ChecksumMemo);
    expect(await checksum()).toBe(first);
    expect(meta.checksums.get(join(ctx, 'a'))?.[1]).toEqual(['one.txt']);
  });

  it('does not memoise paths changed within the racy window', async () => {
    const now = (await stat(join(ctx, 'a', 'one.txt'))).ctimeMs + 10;
    await checksum(now);
    expect(meta.checksums.get(join(ctx, 'a'))).toBeUndefined();
  });
});

describe('directory view listing', () => {
  it('lists from a memo, and reads the directory when a name the memo gave is gone', async () => {
    const calls: boolean[] = [];
    const listNames = (path: string, _st: unknown, fresh: boolean): readonly string[] => {
      calls.push(fresh);
      const names = readdirSync(path).sort();
      return fresh ? names : [...names, 'ghost'];
    };
    const view = createDirectoryView(ctx, { listNames });
    expect([...(await view.list('/a')).keys()]).toEqual(['b', 'one.txt']);
    expect(calls).toEqual([false, true]);
    const known = await view.lookup('/a/b', { followLast: false });
    expect([...(await view.list('/elsewhere', known)).keys()]).toEqual(['two.txt']);
  });

  it('gives a COPY the same layer when it lists from the memo of the checksum', async () => {
    const memo = new ContextMemo(meta, later());
    await computeContextChecksum(context(), [], { meta, signal, memo });
    const layers = [];
    for (const options of [{}, { listNames: memo.listNames }]) {
      const upperdir = join(tmp.path, `upper-${layers.length}`);
      await mkdir(upperdir);
      const target = { upperdir, base: createLayeredView([upperdir]) };
      const action = { action: 'copy', input: 0, sources: ['.'], dest: '/app/', excludes: [], extractArchives: false, parents: false } as const;
      await applyCopy(action, { view: createDirectoryView(ctx, options), isExcluded: () => false }, target, { excludeMatcher: () => () => false, signal });
      layers.push(readdirSync(upperdir, { recursive: true }).sort());
    }
    expect(layers[1]).toEqual(layers[0]);
    expect(layers[0]).toContain('app/a/b/two.txt');
  });
});

describe('file op layer usage', () => {
  it('counts what the snapshotter would find by walking the layer', async () => {
    await writeFile(join(ctx, 'a', 'big.bin'), Buffer.alloc(300_000, 1));
    const upperdir = join(tmp.path, 'upper');
    await mkdir(upperdir);
    const usage = new LayerUsage();
    const target = { upperdir, base: createLayeredView([upperdir]), usage };
    const action = { action: 'copy', input: 0, sources: ['.', 'a/one.txt'], dest: '/app/', excludes: [], extractArchives: false, parents: false } as const;
    const source = { view: createDirectoryView(ctx), isExcluded: () => false };
    await applyCopy(action, source, target, { excludeMatcher: () => () => false, signal });
    expect(usage.total).toBe(await diskUsage(upperdir));
    expect(usage.total).toBeGreaterThan(300_000);
  });
});
