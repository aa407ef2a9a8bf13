import { lstat, mkdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeLocalDir, writeRootfsTar } from '../../../exporter/lazy.js';
import { createTarUnpacker } from '../../../remote/tar-unpack.js';
import { makeTempDir, type TempDir } from '../../helpers/cli.js';

const EPOCH = 1_700_000_000;

describe('a local output written over an earlier one', () => {
  let tmp: TempDir;
  const signal = new AbortController().signal;
  /** layer makes a one-layer filesystem: links (name → text) and files (name → content). */
  const layer = async (name: string, links: Record<string, string>, files: Record<string, string>): Promise<{ dir: string }[]> => {
    const dir = join(tmp.path, name);
    await mkdir(join(dir, 'bin'), { recursive: true });
    for (const [path, text] of Object.entries(links)) await symlink(text, join(dir, path));
    for (const [path, text] of Object.entries(files)) await writeFile(join(dir, path), text);
    return [{ dir }];
  };
  /** unpacked writes the layers as the rootfs tar a server streams, unpacked into dest as a remote client does. */
  const unpacked = async (layers: { dir: string }[], dest: string): Promise<void> => {
    const tar = join(tmp.path, `rootfs-${Math.random()}.tar`);
    await writeRootfsTar(layers, tar, { signal, sourceDateEpoch: EPOCH });
    const unpacker = createTarUnpacker(dest, { signal });
    unpacker.input.write(await readFile(tar));
    unpacker.input.end();
    await unpacker.done;
  };

  beforeEach(async () => {
    tmp = await makeTempDir();
  });
  afterEach(async () => {
    await tmp[Symbol.asyncDispose]();
  });

  for (const [how, write] of [
    ['written locally', (layers: { dir: string }[], dest: string) => writeLocalDir(layers, dest, { signal, sourceDateEpoch: EPOCH })],
    ['unpacked from a server', unpacked],
  ] as const) {
    it(`${how}: keeps the links that stayed, replaces those that changed or changed kind, dates them all`, async () => {
      const dest = join(tmp.path, `out-${how.split(' ')[0]}`);
      await write(await layer('first', { 'bin/same': 'busybox', 'bin/moved': 'old', 'bin/becomes-file': 'busybox' }, { 'bin/busybox': 'v1', 'bin/becomes-link': 'file' }), dest);
      // When each link was made (a file system may give a new link the number of the one just removed).
      const born = async (name: string): Promise<bigint> => (await lstat(join(dest, 'bin', name), { bigint: true })).birthtimeNs;
      const before = { same: await born('same'), moved: await born('moved') };
      await write(await layer('second', { 'bin/same': 'busybox', 'bin/moved': 'new', 'bin/becomes-link': 'busybox' }, { 'bin/busybox': 'v2', 'bin/becomes-file': 'now a file' }), dest);
      // The link that stayed is the one the first output made; the one that changed was made again.
      expect(await born('same')).toBe(before.same);
      expect(await born('moved')).toBeGreaterThan(before.moved);
      expect(await readlink(join(dest, 'bin/same'))).toBe('busybox');
      expect(await readlink(join(dest, 'bin/moved'))).toBe('new');
      expect(await readlink(join(dest, 'bin/becomes-link'))).toBe('busybox');
      expect(await readFile(join(dest, 'bin/becomes-file'), 'utf8')).toBe('now a file');
      expect(await readFile(join(dest, 'bin/busybox'), 'utf8')).toBe('v2');
      for (const name of ['same', 'moved', 'becomes-link', 'becomes-file', 'busybox']) expect((await lstat(join(dest, 'bin', name))).mtimeMs).toBe(EPOCH * 1000);
    });
  }
});
