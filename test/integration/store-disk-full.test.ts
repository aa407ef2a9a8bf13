import { createHash } from 'node:crypto';
import { mkdir, rm, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiskFullError } from '../../base/errors.js';
import { openMetadataStore } from '../../cache/index.js';
import { run, runTbuild, type CliResult } from '../helpers/cli.js';
import { useBuildEnvironment } from '../helpers/build-env.js';

/** The store's disk: a tmpfs this small fills up with one big COPY. */
const DISK_BYTES = 16 << 20;

/** bytes is `size` bytes that do not compress (a layer of them is as big as its blob). */
function bytes(size: number, seed: string): Buffer {
  const out: Buffer[] = [];
  for (let i = 0; out.length * 32 < size; i++) out.push(createHash('sha256').update(`${seed} ${i}`).digest());
  return Buffer.concat(out).subarray(0, size);
}

describe('a store whose disk is full', () => {
  const env = useBuildEnvironment();
  let disk: string;
  let root: string;
  let ctx: string;
  const filler = (): string => join(disk, 'filler');

  /** leaveFree fills the disk until `free` bytes are left. */
  const leaveFree = async (free: number): Promise<void> => {
    const st = await statfs(disk);
    await writeFile(filler(), Buffer.alloc(Math.max(0, st.bavail * st.bsize - free)));
  };
  const build = (dockerfile: string, ...extra: string[]): Promise<CliResult> =>
    runTbuild(['build', '--root', root, '--config', env.config, '--progress', 'plain', '-f', join(ctx, dockerfile), ...extra, ctx]);
  /** expectUsable: with the filler gone, a small build succeeds and the store checks clean. */
  const expectUsable = async (): Promise<void> => {
    await rm(filler(), { force: true });
    const small = await build('Dockerfile.small', '-t', 'small');
    expect(small.code, small.stderr).toBe(0);
    const check = await runTbuild(['debug', 'check-store', '--root', root, '--all-blobs']);
    expect([check.code, check.stdout], check.stderr).toEqual([0, '']);
  };

  beforeAll(async () => {
    disk = join(env.tmp.path, 'disk');
    root = join(disk, 'root');
    ctx = join(env.tmp.path, 'ctx');
    await mkdir(disk);
    const mounted = await run('mount', ['-t', 'tmpfs', '-o', `size=${DISK_BYTES}`, 'tmpfs', disk]);
    if (mounted.code !== 0) throw new Error(`Cannot mount a tmpfs for the store (the test runs as root): ${mounted.stderr}`);
    await mkdir(ctx);
    await writeFile(join(ctx, 'big.bin'), bytes(20 << 20, 'big'));
    await writeFile(join(ctx, 'Dockerfile.copy'), 'FROM busybox\nCOPY big.bin /big.bin\n');
    await writeFile(join(ctx, 'Dockerfile.small'), 'FROM busybox\nRUN echo small > /small\n');
    const base = await build('Dockerfile.small', '-t', 'small');
    expect(base.code, base.stderr).toBe(0);
  });
  afterAll(async () => {
    const unmounted = await run('umount', [disk]);
    if (unmounted.code !== 0) throw new Error(`Cannot unmount the store's tmpfs: ${unmounted.stderr}`);
  });

  it('fails a COPY that fills it, naming the full disk and the file, and the store stays usable', async () => {
    const res = await build('Dockerfile.copy', '-t', 'big');
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(new RegExp(`ERROR: \\[2/2\\] COPY big.bin /big.bin: Cannot write "${root}/snapshots/[^"]+/fs/big.bin": the disk is full \\(no space left on device\\)`));
    expect(res.stderr).toContain('hint: free space on that disk (tbuild prune removes build cache) and build again');
    expect(res.stderr).not.toContain('internal error');
    await expectUsable();
  });

  it('fails an export whose layer blob does not fit, naming the full disk and the content store, and the store stays usable', async () => {
    // The RUN's 3 MiB layer fits; its blob, written to the content store for the OCI output, does not.
    await writeFile(join(ctx, 'Dockerfile.export'), `FROM busybox\nRUN head -c ${3 << 20} /dev/urandom > /random # ${Date.now()}\n`);
    await leaveFree((3 << 20) + (1536 << 10));
    const res = await build('Dockerfile.export', '--output', `type=oci,dest=${join(env.tmp.path, 'out.tar')}`);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`ERROR: Cannot store a blob: the disk holding "${root}/content/ingest" is full (no space left on device)`);
    expect(res.stderr).toContain('hint: free space on that disk');
    expect(res.stderr).not.toContain('internal error');
    await expectUsable();
  });

  it('refuses to start writing when the metadata database has no room, naming the disk, and the store stays usable', async () => {
    await leaveFree(256 << 10);
    const res = await build('Dockerfile.small', '-t', 'small');
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(new RegExp(`ERROR: Cannot write to the store: the disk holding "${root}/meta" is full \\(\\d+ KiB free, the metadata database needs 1024 KiB\\)`));
    await expectUsable();
  });

  it('turns a metadata commit that finds the disk full into an error naming the database', async () => {
    const dir = join(disk, 'meta-only');
    await using meta = openMetadataStore(dir);
    await leaveFree(512 << 10);
    const value = bytes(64 << 10, 'value').toString('hex');
    let failure: unknown;
    for (let i = 0; i < 64 && failure === undefined; i++) {
      try {
        meta.transactSync(() => meta.imagePins.putSync(`k${i}`, { digest: value, config: null, resolvedAt: i }));
      } catch (err) {
        failure = err;
      }
    }
    expect(failure).toBeInstanceOf(DiskFullError);
    expect(failure).toMatchObject({ path: dir, message: `Cannot write the metadata database: the disk holding "${dir}" is full (no space left on device)` });
    await rm(filler(), { force: true });
    // With room again, the database takes writes and kept what it committed.
    meta.transactSync(() => meta.imagePins.putSync('after', { digest: 'd', config: null, resolvedAt: 1 }));
    expect(meta.imagePins.get('after')).toMatchObject({ digest: 'd' });
    expect(meta.imagePins.get('k0')).toMatchObject({ digest: value });
  });
});
