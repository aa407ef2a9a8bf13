import { createHash } from 'node:crypto';
import { mkdir, rm, statfs, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
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

  it('fails a build whose disk fills up while it runs with an error naming the metadata database, and the store stays usable', async () => {
    // Another process fills the disk while a step runs and writes to the database until it cannot: the build's next
    // write to the database finds no room left and no disk to take it from.
    const meta = join(root, 'meta');
    let filling: Promise<unknown> | undefined;
    let filled: unknown;
    const fill = async (): Promise<void> => {
      await leaveFree(0);
      await using other = openMetadataStore(meta);
      // As a transaction that frees would, it takes the database's room down to what such a transaction still gets.
      const value = bytes(4 << 10, 'other').toString('hex');
      for (let i = 0; i < 1024; i++) other.transactSync(() => other.imagePins.putSync(`other${i}`, { digest: value, config: null, resolvedAt: i }), { freeing: true });
    };
    // The step asks until the disk is full: the first question fills it, the answer comes once it is.
    const server = createServer((socket) => {
      filling ??= fill().then(
        () => new Error('the database took every write on a full disk'),
        (err: unknown) => (filled = err),
      );
      socket.end(filled === undefined ? '' : 'full\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const wait = `until nc 127.0.0.1 ${port} </dev/null | grep -q full; do sleep 0.1; done`;
      await writeFile(join(ctx, 'Dockerfile.midway'), `FROM busybox\nRUN --network=host ${wait} # ${Date.now()}\nRUN echo after\n`);
      const res = await build('Dockerfile.midway', '--allow', 'network.host');
      expect(await filling).toBeInstanceOf(DiskFullError);
      expect(res.code, res.stderr).toBe(1);
      expect(res.stderr).toMatch(new RegExp(`ERROR: .*Cannot write the metadata database: the disk holding "${meta}" is full \\(\\d+ KiB of room left in the database, a write needs 128 KiB\\)`));
      expect(res.stderr).toContain('hint: free space on that disk');
      expect(res.stderr).not.toContain('internal error');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await expectUsable();
  });

  it('fails a metadata commit on a full disk with an error naming the database, before the database finds no room', async () => {
    const dir = join(disk, 'meta-only');
    await using meta = openMetadataStore(dir);
    await leaveFree(512 << 10);
    // Each commit stays below the room a transaction asks for: a bigger one could still find the disk full in lmdb-js.
    const value = bytes(16 << 10, 'value').toString('hex');
    let failure: unknown;
    for (let i = 0; i < 256 && failure === undefined; i++) {
      try {
        meta.transactSync(() => meta.imagePins.putSync(`k${i}`, { digest: value, config: null, resolvedAt: i }));
      } catch (err) {
        failure = err;
      }
    }
    expect(failure).toBeInstanceOf(DiskFullError);
    expect(failure).toMatchObject({ path: dir, message: expect.stringMatching(/^Cannot write the metadata database: the disk holding ".+" is full \(\d+ KiB of room left in the database, a write needs 128 KiB\)$/) });
    // An asynchronous write is refused too, before lmdb-js queues it (its failed commit could not be reported cleanly).
    await expect(meta.httpSources.put('http://example/a', { seen: [] })).rejects.toBeInstanceOf(DiskFullError);
    await rm(filler(), { force: true });
    // With room again, the database takes writes and kept what it committed.
    meta.transactSync(() => meta.imagePins.putSync('after', { digest: 'd', config: null, resolvedAt: 1 }));
    await meta.httpSources.put('http://example/b', { seen: [{ etag: 'e', digest: 'd', filename: 'f', mtime: '' }] });
    expect(meta.httpSources.get('http://example/b')).toMatchObject({ seen: [{ etag: 'e' }] });
    expect(meta.imagePins.get('after')).toMatchObject({ digest: 'd' });
    expect(meta.imagePins.get('k0')).toMatchObject({ digest: value });
  });
});
