import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { release } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SnapshotError } from '../../../base/errors.js';
import { chooseOverlayDriver, detectOverlayDriver, mountOverlay, probeKernelOverlay, probeKernelOverlayOnce, unmountOverlay, type KernelProbe } from '../../../executor/index.js';
import { makeTempDir, type TempDir } from '../../helpers/cli.js';

const EPERM: KernelProbe = { ok: false, errno: 1, message: 'Cannot mount: operation not permitted' };

describe('overlay driver choice', () => {
  let tmp: TempDir;
  beforeEach(async () => {
    tmp = await makeTempDir('tbuild-overlay-driver-');
  });
  afterEach(async () => {
    await tmp[Symbol.asyncDispose]();
  });

  it('takes kernel and fuse as set, and auto by the trial mount, then by what is installed', () => {
    const facts = { probe: EPERM, fuseInstalled: true, kernel: '5.10.0' };
    expect(chooseOverlayDriver('kernel', { ...facts, fuseInstalled: false }).driver).toBe('kernel');
    expect(chooseOverlayDriver('fuse', facts).driver).toBe('fuse');
    expect(chooseOverlayDriver('auto', { ...facts, probe: { ok: true } })).toEqual({ driver: 'kernel', reason: 'a trial overlayfs mount worked' });
    expect(chooseOverlayDriver('auto', facts)).toEqual({
      driver: 'fuse',
      reason: 'the kernel (Linux 5.10.0) refused a trial overlayfs mount: EPERM (Cannot mount: operation not permitted)',
    });
    expect(() => chooseOverlayDriver('fuse', { ...facts, fuseInstalled: false })).toThrow('Cannot mount overlays with fuse-overlayfs: it is not installed');
  });

  it('keeps a trial mount that worked for the next processes, and tries again after one that failed', async () => {
    let trials = 0;
    const counted = (outcome: KernelProbe) => async (): Promise<KernelProbe> => (trials++, outcome);
    const memo = join(tmp.path, 'overlay-probe.json');
    const dir = join(tmp.path, 'exec');
    expect(await probeKernelOverlayOnce(dir, memo, counted(EPERM))).toEqual(EPERM);
    expect(await probeKernelOverlayOnce(dir, memo, counted(EPERM))).toEqual(EPERM);
    expect(trials).toBe(2);
    expect(await probeKernelOverlayOnce(dir, memo, counted({ ok: true }))).toEqual({ ok: true });
    expect(await probeKernelOverlayOnce(dir, memo, counted(EPERM))).toEqual({ ok: true });
    expect(trials).toBe(3);
    // Kept for this kernel and filesystem only: another kernel's (or a damaged) file is tried again.
    expect(JSON.parse(await readFile(memo, 'utf8'))).toEqual({ key: expect.stringContaining(`linux ${release()} dev `) });
    await writeFile(memo, JSON.stringify({ key: 'linux 4.19.0 dev 1 root' }));
    expect(await probeKernelOverlayOnce(dir, memo, counted(EPERM))).toEqual(EPERM);
    await writeFile(memo, '{"key": ');
    expect(await probeKernelOverlayOnce(dir, memo, counted({ ok: true }))).toEqual({ ok: true });
    expect(trials).toBe(5);
    // The real trial, then its kept outcome; the trial's folder holds nothing after it.
    const realMemo = join(tmp.path, 'real.json');
    expect(await probeKernelOverlayOnce(join(tmp.path, 'real'), realMemo)).toEqual({ ok: true });
    expect(await probeKernelOverlayOnce(join(tmp.path, 'real'), realMemo, counted(EPERM))).toEqual({ ok: true });
    expect(trials).toBe(5);
    expect(await readdir(join(tmp.path, 'real'))).toEqual([]);
    // Without a file to keep it in, an executor's trial is made again (detectOverlayDriver with no probeMemo).
    await expect(detectOverlayDriver('auto', { probeDir: join(tmp.path, 'real') })).resolves.toMatchObject({ driver: 'kernel' });
    expect(await readdir(join(tmp.path, 'real'))).toEqual([]);
  });

  it('names the kernel, the errno and what to install when auto finds neither driver', async () => {
    const empty = join(tmp.path, 'empty-path');
    await mkdir(empty);
    const failed = detectOverlayDriver('auto', { probeDir: tmp.path, probe: async () => EPERM, searchPath: empty });
    await expect(failed).rejects.toBeInstanceOf(SnapshotError);
    await expect(failed).rejects.toThrow(`Cannot mount overlays: the kernel (Linux ${release()}) refused a trial overlayfs mount: EPERM`);
    const err: unknown = await failed.catch((e: unknown) => e);
    expect(err instanceof SnapshotError ? err.hint : '').toContain('apt-get install fuse-overlayfs');
  });

  it('makes a real trial mount that works here, and leaves nothing of it', async () => {
    expect(await probeKernelOverlay(join(tmp.path, 'exec'))).toEqual({ ok: true });
    expect(await readdir(join(tmp.path, 'exec'))).toEqual([]);
  });

  it('picks fuse-overlayfs when the trial mount fails, and mounts with it', async () => {
    const decision = await detectOverlayDriver('auto', { probeDir: tmp.path, probe: async () => EPERM });
    expect(decision.driver).toBe('fuse');
    const [lower, upperdir, workdir, merged] = ['lower', 'upper', 'work', 'merged'].map((d) => join(tmp.path, d)) as [string, string, string, string];
    for (const d of [lower, upperdir, workdir, merged]) await mkdir(d);
    await writeFile(join(lower, 'below'), 'lower\n');
    await mountOverlay(merged, { lowerdirs: [lower], upperdir, workdir }, decision.driver);
    try {
      const mounts = await readFile('/proc/self/mounts', 'utf8');
      expect(mounts.split('\n').find((l) => l.includes(merged))).toMatch(/^fuse-overlayfs \S+ fuse\.fuse-overlayfs /);
      expect(await readFile(join(merged, 'below'), 'utf8')).toBe('lower\n');
      await writeFile(join(merged, 'above'), 'upper\n');
    } finally {
      unmountOverlay(merged);
    }
    expect(await readFile(join(upperdir, 'above'), 'utf8')).toBe('upper\n');
    expect(await readFile('/proc/self/mounts', 'utf8')).not.toContain(merged);
  });
});
