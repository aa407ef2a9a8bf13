import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { mountOverlay } from '../../executor/overlay-mount.js';
import { MAX_MOUNT_DATA } from '../../executor/spec.js';
import { umount2 } from '../../native/index.js';
import { makeTempDir } from '../helpers/cli.js';

describe('overlay mounts on the host (OCI runtime executor)', () => {
  it('mounts more layers than absolute paths fit in the mount data without changing the working folder', async () => {
    await using tmp = await makeTempDir();
    const layersDir = join(tmp.path, 'snapshots');
    const lowerdirs: string[] = [];
    for (let i = 0; i < 80; i++) {
      const dir = join(layersDir, `${String(i).padStart(3, '0')}-${'l'.repeat(36)}`);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, `f${i}`), `${i}`);
      lowerdirs.push(dir);
    }
    expect(lowerdirs.join(':').length).toBeGreaterThan(MAX_MOUNT_DATA);
    const [upperdir, workdir, target] = ['upper', 'work', 'rootfs'].map((n) => join(tmp.path, n));
    for (const d of [upperdir, workdir, target]) await mkdir(d ?? '');
    const cwd = process.cwd();
    const chdir = vi.spyOn(process, 'chdir');
    try {
      await mountOverlay(target ?? '', { lowerdirs, upperdir: upperdir ?? '', workdir: workdir ?? '' });
      try {
        expect((await readdir(target ?? '')).sort()).toEqual(lowerdirs.map((_, i) => `f${i}`).sort());
      } finally {
        umount2(target ?? '');
      }
      expect(chdir).not.toHaveBeenCalled();
      expect(process.cwd()).toBe(cwd);
    } finally {
      chdir.mockRestore();
    }
  });

  it('names the target and the reason when the mount fails', async () => {
    await using tmp = await makeTempDir();
    const lowerdirs = Array.from({ length: 80 }, (_, i) => join(tmp.path, 'snapshots', `${String(i).padStart(3, '0')}-${'m'.repeat(36)}`));
    const target = join(tmp.path, 'rootfs');
    await mkdir(target);
    // The layers were never made: mount(8) refuses, and the error says where.
    await expect(mountOverlay(target, { lowerdirs, upperdir: join(tmp.path, 'upper'), workdir: join(tmp.path, 'work') })).rejects.toThrow(new RegExp(`Cannot mount 80 layers at "${target}"`));
  });
});
