import { mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { appendFile, chmod, link, mkdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errnoCode } from '../../../base/errors.js';
import { openMetadataStore, type MetadataStore } from '../../../cache/metadata.js';
import { openContextFolder } from '../../../controller/context.js';
import { ContextWatchRegistry } from '../../../controller/context-watches.js';
import { computeContextChecksum } from '../../../solver/ops/context-checksum.js';
import { checksumWithWatch } from '../../../solver/ops/context-reuse.js';
import { makeTempDir, type TempDir } from '../../helpers/cli.js';

const signal = new AbortController().signal;
let tmp: TempDir;
let ctx: string;
let meta: MetadataStore;
let registry: ContextWatchRegistry;
let stores = 0;
/** How many paths the last checksums asked about: a scan reused asks about none. */
let asked = 0;

const context = (dir = ctx): { dir: string; isExcluded: (rel: string) => boolean; scanKey: string } => ({
  dir,
  isExcluded: (rel) => {
    asked++;
    return rel === 'skipped';
  },
  scanKey: '["skipped"]',
});

beforeEach(async () => {
  tmp = await makeTempDir('tbuild-watch-');
  ctx = join(tmp.path, 'ctx');
  await mkdir(join(ctx, 'a', 'b'), { recursive: true });
  await writeFile(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY . /\n');
  await writeFile(join(ctx, 'top.txt'), 'top\n');
  await writeFile(join(ctx, 'a', 'one.txt'), 'one\n');
  await writeFile(join(ctx, 'a', 'b', 'two.txt'), 'two\n');
  await writeFile(join(ctx, 'skipped'), 'not selected\n');
  await symlink('a/one.txt', join(ctx, 'link'));
  meta = openMetadataStore(join(tmp.path, 'meta'));
  registry = new ContextWatchRegistry({ idleMs: 60_000 });
});
afterEach(async () => {
  await registry[Symbol.asyncDispose]();
  expect(watcherPids()).toEqual([]);
  await meta.close();
  await tmp[Symbol.asyncDispose]();
});

/** watched computes the checksum as a resident builder does: reused while the watch tells nothing changed. */
async function watched(watches = registry): Promise<{ checksum: string; walked: boolean }> {
  asked = 0;
  const checksum = await checksumWithWatch(context(), [], { meta, signal, watches });
  return { checksum, walked: asked > 0 };
}

/** fresh computes with an empty memo and no watch: what the context really holds. */
async function fresh(): Promise<string> {
  const store = openMetadataStore(join(tmp.path, `fresh-${stores++}`));
  try {
    return await computeContextChecksum(context(), [], { meta: store, signal, now: Date.now() + 60_000 });
  } finally {
    await store.close();
  }
}

/** watcherPids lists this process's tbuild-watch children watching the test's folder. */
function watcherPids(dir = ctx): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    let argv: string[];
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
    } catch (err) {
      // The process ended while the list was read.
      if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ESRCH') continue;
      throw err;
    }
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === process.pid && argv[0]?.endsWith('/tbuild-watch') === true && argv[1] === dir) pids.push(Number(name));
  }
  return pids;
}

/**
 * overflow makes the kernel drop events of the folder's watch: a stopped watcher reads nothing, and more changes than
 * its queue holds (fs.inotify.max_queued_events) are made meanwhile. It returns what a watch marked before tells of
 * the changes since: "lost" when it cannot list them.
 */
async function overflow(): Promise<string> {
  const [pid] = watcherPids();
  if (pid === undefined) throw new Error('no watcher runs');
  const watch = await registry.watch(ctx, { signal });
  const mark = watch?.mark();
  if (watch === undefined || mark === undefined) throw new Error('the folder is not watched');
  const queued = Number(readFileSync('/proc/sys/fs/inotify/max_queued_events', 'utf8'));
  await mkdir(join(ctx, 'many'));
  for (let i = 0; i < 64; i++) writeFileSync(join(ctx, 'many', `f${i}`), '');
  // Once the watcher has answered, it has read the folder's creation and watches it.
  expect(await watch.changesSince(mark, { signal })).toContain('many');
  process.kill(pid, 'SIGSTOP');
  try {
    // File times are the cheapest change to make. Names alternate: the kernel merges an event identical to the one
    // queued just before it.
    for (let i = 0; i <= queued; i++) utimesSync(join(ctx, 'many', `f${i % 64}`), i, i);
    mkdirSync(join(ctx, 'many', 'made-while-lost'));
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  const changes = await watch.changesSince(mark, { signal });
  return changes === undefined ? 'lost' : `${changes.length} changes listed`;
}

/**
 * expectSeen checks a watched build after a change finds what a fresh walk finds; `walks` tells whether it must walk
 * (a path appeared, went or changed kind) or describe only the changed paths again (changed in place).
 */
async function expectSeen(before: string, walks = true): Promise<string> {
  const after = await watched();
  expect(after.walked).toBe(walks);
  expect(after.checksum).not.toBe(before);
  expect(after.checksum).toBe(await fresh());
  return after.checksum;
}

describe('context watch', () => {
  it('reuses the last scan while nothing changed, and walks again once a file changed', async () => {
    const first = await watched();
    expect(first).toEqual({ checksum: await fresh(), walked: true });
    expect(watcherPids()).toHaveLength(1);
    expect(await watched()).toEqual({ checksum: first.checksum, walked: false });
    await appendFile(join(ctx, 'a', 'b', 'two.txt'), 'more\n');
    const changed = await expectSeen(first.checksum, false);
    expect(await watched()).toEqual({ checksum: changed, walked: false });
    // The Dockerfile is a context file like any other.
    await writeFile(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY . /app/\n');
    const edited = await expectSeen(changed, false);
    await chmod(join(ctx, 'a'), 0o700);
    const modes = await expectSeen(edited, false);
    // A file written as a new file renamed over the old one, as editors save: the temporary name comes and goes.
    await writeFile(join(ctx, 'a', '.one.txt.swp'), 'saved\n');
    await rename(join(ctx, 'a', '.one.txt.swp'), join(ctx, 'a', 'one.txt'));
    await expectSeen(modes, false);
  });

  it('sees directories made after the watch began, and files written in them later', async () => {
    let last = (await watched()).checksum;
    await mkdir(join(ctx, 'new', 'deep'), { recursive: true });
    await writeFile(join(ctx, 'new', 'deep', 'file.txt'), 'new\n');
    last = await expectSeen(last);
    expect((await watched()).walked).toBe(false);
    await appendFile(join(ctx, 'new', 'deep', 'file.txt'), 'again\n');
    last = await expectSeen(last, false);
    await mkdir(join(ctx, 'new', 'deep', 'deeper'));
    await writeFile(join(ctx, 'new', 'deep', 'deeper', 'x'), 'x');
    await expectSeen(last);
  });

  it('sees renames and removals, and writes in a renamed directory', async () => {
    let last = (await watched()).checksum;
    await rename(join(ctx, 'a'), join(ctx, 'c'));
    last = await expectSeen(last);
    await appendFile(join(ctx, 'c', 'b', 'two.txt'), 'moved\n');
    last = await expectSeen(last, false);
    await rm(join(ctx, 'top.txt'));
    last = await expectSeen(last);
    await rm(join(ctx, 'c'), { recursive: true });
    await expectSeen(last);
  });

  it('sees symlinks made, changed and removed, as links', async () => {
    let last = (await watched()).checksum;
    await rm(join(ctx, 'link'));
    await symlink('top.txt', join(ctx, 'link'));
    expect(await readlink(join(ctx, 'link'))).toBe('top.txt');
    last = await expectSeen(last, false);
    await symlink('/nowhere', join(ctx, 'a', 'dangling'));
    last = await expectSeen(last);
    await rm(join(ctx, 'link'));
    await expectSeen(last);
  });

  it('sees a write through a second name outside the folder of a file linked before the watch began', async () => {
    await link(join(ctx, 'top.txt'), join(tmp.path, 'outside.txt'));
    const last = (await watched()).checksum;
    await appendFile(join(tmp.path, 'outside.txt'), 'through the other name\n');
    await expectSeen(last, false);
  });

  it('needs no walk for changes the ignore patterns surely leave out, and sees those an exception keeps', async () => {
    await mkdir(join(ctx, '.git', 'objects'), { recursive: true });
    await writeFile(join(ctx, '.git', 'index'), 'index\n');
    await writeFile(join(ctx, '.git', 'keep'), 'kept\n');
    const folder = openContextFolder(ctx, ['.git', '!.git/keep']);
    const build = async (): Promise<{ checksum: string; walked: boolean }> => {
      asked = 0;
      const counted = {
        ...folder,
        isExcluded: (rel: string): boolean => {
          asked++;
          return folder.isExcluded(rel);
        },
      };
      return { checksum: await checksumWithWatch(counted, [], { meta, signal, watches: registry }), walked: asked > 0 };
    };
    const freshOf = async (): Promise<string> => {
      const store = openMetadataStore(join(tmp.path, `fresh-${stores++}`));
      try {
        return await computeContextChecksum(openContextFolder(ctx, ['.git', '!.git/keep']), [], { meta: store, signal, now: Date.now() + 60_000 });
      } finally {
        await store.close();
      }
    };
    const first = await build();
    expect(first.checksum).toBe(await freshOf());
    // What git does on every command: new objects, its index written as a new file renamed over the old one.
    await writeFile(join(ctx, '.git', 'objects', 'ab12'), 'object\n');
    await writeFile(join(ctx, '.git', 'index.lock'), 'index 2\n');
    await rename(join(ctx, '.git', 'index.lock'), join(ctx, '.git', 'index'));
    expect(await build()).toEqual({ checksum: first.checksum, walked: false });
    await appendFile(join(ctx, '.git', 'keep'), 'changed\n');
    const kept = await build();
    expect(kept.walked).toBe(false);
    expect(kept.checksum).not.toBe(first.checksum);
    expect(kept.checksum).toBe(await freshOf());
  });

  it('finds what a fresh walk finds after each of 150 seeded random changes', async () => {
    let state = 20261207;
    const next = (n: number): number => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return (state >>> 8) % n;
    };
    const names = ['a', 'b', 'c.txt', 'd', 'skipped', 'e.txt'];
    const dirs = ['', 'a', 'a/b', 'd', 'd/a', 'new'];
    await watched();
    let walks = 0;
    for (let i = 0; i < 150; i++) {
      const at = join(ctx, dirs[next(dirs.length)] ?? '', names[next(names.length)] ?? '');
      const change = next(6);
      // Each change may fail (a parent missing, a folder in the way): what it did, if anything, must be seen.
      await (async () => {
        if (change === 0) await writeFile(at, `content ${i}\n`);
        else if (change === 1) await rm(at, { recursive: true, force: true });
        else if (change === 2) await mkdir(at, { recursive: true });
        else if (change === 3) await symlink(`target-${i}`, at);
        else if (change === 4) await chmod(at, 0o600 + next(2) * 0o100);
        else await rename(at, join(ctx, dirs[next(dirs.length)] ?? '', names[next(names.length)] ?? ''));
      })().catch((err: unknown) => {
        if (!['ENOENT', 'EEXIST', 'ENOTDIR', 'EISDIR', 'ENOTEMPTY', 'EINVAL'].includes(errnoCode(err) ?? '')) throw err;
      });
      const seen = await watched();
      walks += seen.walked ? 1 : 0;
      expect(seen.checksum, `after change ${i}`).toBe(await fresh());
    }
    // Both ways were taken: changes in place described again, others walked.
    expect(walks).toBeGreaterThan(10);
    expect(walks).toBeLessThan(140);
  });

  it('walks again after the kernel dropped events (queue overflow), then reuses scans again', async () => {
    let last = (await watched()).checksum;
    const lost = await overflow();
    expect(lost.toLowerCase()).toBe('lost');
    last = await expectSeen(last);
    expect((await watched()).walked).toBe(false);
    // A directory made while events were lost is watched once the watcher has watched the tree again.
    await writeFile(join(ctx, 'many', 'made-while-lost', 'late.txt'), 'late\n');
    await expectSeen(last);
  });

  it('walks a folder it cannot watch whole (watch limit), and sees its changes', async () => {
    await using limited = new ContextWatchRegistry({ idleMs: 60_000, maxWatches: 2 });
    let last = (await watched(limited)).checksum;
    expect(watcherPids()).toEqual([]);
    expect((await watched(limited)).walked).toBe(true);
    await appendFile(join(ctx, 'top.txt'), 'more\n');
    asked = 0;
    last = await checksumWithWatch(context(), [], { meta, signal, watches: limited });
    expect(asked).toBeGreaterThan(0);
    expect(last).toBe(await fresh());
  });

  it('sees a change made while no watch ran (the builder stopped): the first build walks', async () => {
    const first = (await watched()).checksum;
    await registry[Symbol.asyncDispose]();
    expect(watcherPids()).toEqual([]);
    await appendFile(join(ctx, 'a', 'one.txt'), 'while stopped\n');
    registry = new ContextWatchRegistry({ idleMs: 60_000 });
    await expectSeen(first, true);
  });

  it('keeps at most maxContexts folders watched, the least recently built stopping first, and stops one left idle', async () => {
    const other = join(tmp.path, 'other');
    await mkdir(other);
    await writeFile(join(other, 'f'), 'f');
    await using lru = new ContextWatchRegistry({ idleMs: 60_000, maxContexts: 1 });
    await checksumWithWatch(context(), [], { meta, signal, watches: lru });
    expect(watcherPids()).toHaveLength(1);
    await checksumWithWatch(context(other), [], { meta, signal, watches: lru });
    expect(watcherPids()).toEqual([]);
    expect(watcherPids(other)).toHaveLength(1);
    await using idle = new ContextWatchRegistry({ idleMs: 2000 });
    await checksumWithWatch(context(), [], { meta, signal, watches: idle });
    expect(watcherPids()).toHaveLength(1);
    await expect.poll(() => watcherPids(), { timeout: 15_000, interval: 200 }).toEqual([]);
  });
});
