import { execFile } from 'node:child_process';
import { lstat, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { walkSnapshot } from '../../../exporter/layer/walk.js';
import { mountOverlay, unmountOverlay } from '../../../executor/index.js';
import {
  classifyUpperEntry,
  isOpaqueDir,
  isOverlayXattr,
  listLayered,
  lookupLayered,
  lsetxattr,
  makeWhiteout,
  markOpaque,
  normalizeFuseUpper,
} from '../../../native/index.js';
import { makeTempDir, type TempDir } from '../../helpers/cli.js';

const exec = promisify(execFile);

/** The forms one change (delete `gone`, replace `opq` by a directory holding `new`) takes in an upper dir. */
type Form = 'kernel' | 'fuse-device' | 'fuse-file' | 'marker-only';
const FORMS: readonly Form[] = ['kernel', 'fuse-device', 'fuse-file', 'marker-only'];

async function writeUpper(dir: string, form: Form): Promise<void> {
  await mkdir(join(dir, 'opq'), { recursive: true });
  await writeFile(join(dir, 'opq', 'new'), 'up');
  if (form === 'kernel' || form === 'fuse-device') makeWhiteout(join(dir, 'gone'));
  else await writeFile(join(dir, '.wh.gone'), '');
  if (form === 'kernel' || form === 'fuse-device') markOpaque(join(dir, 'opq'));
  if (form === 'fuse-file') lsetxattr(join(dir, 'opq'), 'user.fuseoverlayfs.opaque', Buffer.from('y'));
  // fuse-overlayfs puts the marker file beside the attribute, and may white out names inside the opaque directory.
  if (form !== 'kernel') await writeFile(join(dir, 'opq', '.wh..wh..opq'), '');
  if (form === 'fuse-device') makeWhiteout(join(dir, 'opq', '.wh..opq'));
}

async function walked(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of walkSnapshot(dir, { signal: AbortSignal.timeout(10_000) })) out.push(`${e.rel}${e.whiteout ? ' whiteout' : ''}${e.opaque ? ' opaque' : ''}`);
  return out;
}

describe('upper dirs in fuse-overlayfs forms', () => {
  let tmp: TempDir;
  let low: string;
  beforeEach(async () => {
    tmp = await makeTempDir('tbuild-fuse-upper-');
    low = join(tmp.path, 'low');
    await mkdir(join(low, 'opq', 'sub'), { recursive: true });
    await writeFile(join(low, 'gone'), 'low');
    await writeFile(join(low, 'kept'), 'low');
    await writeFile(join(low, 'opq', 'old'), 'low');
  });
  afterEach(async () => {
    await tmp[Symbol.asyncDispose]();
  });

  it('classifies whiteout files and the opaque marker, and leaves names that delete nothing as files', () => {
    const file = { isFile: () => true, isCharacterDevice: () => false } as unknown as import('node:fs').Stats;
    expect(classifyUpperEntry('.wh.gone', file)).toEqual({ kind: 'whiteout', name: 'gone' });
    expect(classifyUpperEntry('.wh..wh..opq', file)).toEqual({ kind: 'opaque-marker' });
    expect(classifyUpperEntry('.wh..', file)).toEqual({ kind: 'entry' });
    expect(classifyUpperEntry('plain', file)).toEqual({ kind: 'entry' });
    expect(isOverlayXattr('user.fuseoverlayfs.origin')).toBe(true);
  });

  for (const form of FORMS) {
    it(`reads the ${form} form as the kernel's: lookups, listings and the layer walk`, async () => {
      const up = join(tmp.path, form);
      await writeUpper(up, form);
      expect(isOpaqueDir(join(up, 'opq'))).toBe(true);
      expect((await lookupLayered([up, low], 'gone')).kind).toBe('missing');
      expect((await lookupLayered([up, low], '.wh.gone')).kind).toBe('missing');
      expect((await lookupLayered([up, low], 'opq/old')).kind).toBe('missing');
      expect((await lookupLayered([up, low], 'opq/.wh..wh..opq')).kind).toBe('missing');
      expect((await lookupLayered([up, low], 'opq/new')).kind).toBe('found');
      expect([...(await listLayered([up, low])).keys()]).toEqual(['kept', 'opq']);
      const opq = await lookupLayered([up, low], 'opq');
      expect(opq.kind === 'found' ? [...(await listLayered(opq.merged)).keys()] : []).toEqual(['new']);
      expect(await walked(up)).toEqual(['gone whiteout', 'opq opaque', 'opq/new']);
    });
  }

  it('drops the opaque marks and whiteouts that hide nothing below, keeping directory times', async () => {
    const up = join(tmp.path, 'up');
    await mkdir(join(up, 'fresh'), { recursive: true });
    await writeFile(join(up, 'fresh', '.wh..wh..opq'), '');
    markOpaque(join(up, 'fresh'));
    makeWhiteout(join(up, 'never-there'));
    await writeUpper(up, 'fuse-device');
    const before = (await lstat(up)).mtimeMs;
    await normalizeFuseUpper(up, [low]);
    expect(isOpaqueDir(join(up, 'fresh'))).toBe(false);
    expect(await readdir(join(up, 'fresh'))).toEqual([]);
    expect(Math.abs((await lstat(up)).mtimeMs - before)).toBeLessThan(0.001);
    // Over something below, the marks stay: `opq` and `gone` hide what the lower layer holds.
    expect(await walked(up)).toEqual(['gone whiteout', 'fresh', 'opq opaque', 'opq/new']);
  });

  for (const files of [false, true]) {
    it(`writes, through a real fuse-overlayfs mount${files ? ' that may make no device' : ''}, the layer the kernel's overlayfs writes`, async () => {
      const written: string[] = [];
      const layers = async (name: string, driver: 'kernel' | 'fuse'): Promise<string> => {
        const base = join(tmp.path, name);
        const [upperdir, workdir, merged] = ['up', 'work', 'merged'].map((d) => join(base, d)) as [string, string, string];
        for (const d of [upperdir, workdir, merged]) await mkdir(d, { recursive: true });
        if (driver === 'fuse' && files) {
          // fuse-overlayfs writes `.wh.NAME` files where it may not make a 0/0 device (rootless before Linux 5.8).
          const options = `lowerdir=${low},upperdir=${upperdir},workdir=${workdir}`;
          await exec('fuse-overlayfs', ['-o', options, merged], { env: { ...process.env, FUSE_OVERLAYFS_DISABLE_OVL_WHITEOUT: '1' } });
        } else {
          await mountOverlay(merged, { lowerdirs: [low], upperdir, workdir }, driver);
        }
        try {
          await rm(join(merged, 'gone'));
          await rm(join(merged, 'opq'), { recursive: true });
          await mkdir(join(merged, 'opq'));
          await writeFile(join(merged, 'opq', 'new'), 'up');
          await mkdir(join(merged, 'fresh'));
          expect((await readdir(merged)).sort()).toEqual(['fresh', 'kept', 'opq']);
        } finally {
          unmountOverlay(merged);
        }
        if (driver === 'fuse') {
          written.push(...(await readdir(upperdir)));
          await normalizeFuseUpper(upperdir, [low]);
        }
        return upperdir;
      };
      const fuse = await layers('fuse', 'fuse');
      const kernel = await layers('kernel', 'kernel');
      if (files) expect(written).toContain('.wh.gone');
      expect(await walked(fuse)).toEqual(await walked(kernel));
      // Stored in the kernel's form (root may make devices and trusted attributes), the kernel's overlayfs reads it.
      expect((await readdir(fuse)).sort()).toEqual(['fresh', 'gone', 'opq']);
      expect(await readdir(join(fuse, 'opq'))).toEqual(['new']);
      const [again, againUpper, againWork] = ['again', 'again-up', 'again-work'].map((d) => join(tmp.path, d)) as [string, string, string];
      for (const d of [again, againUpper, againWork]) await mkdir(d);
      await mountOverlay(again, { lowerdirs: [fuse, low], upperdir: againUpper, workdir: againWork }, 'kernel');
      try {
        expect((await readdir(again)).sort()).toEqual(['fresh', 'kept', 'opq']);
        expect(await readdir(join(again, 'opq'))).toEqual(['new']);
      } finally {
        unmountOverlay(again);
      }
      expect(await walked(fuse)).toEqual(['gone whiteout', 'fresh', 'opq opaque', 'opq/new']);
      expect(await readFile(join(fuse, 'opq', 'new'), 'utf8')).toBe('up');
      expect((await readFile('/proc/self/mountinfo', 'utf8')).includes(tmp.path)).toBe(false);
    });
  }
});
