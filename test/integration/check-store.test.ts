import { spawn } from 'node:child_process';
import { appendFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { open } from 'lmdb';
import { openMetadataStore } from '../../cache/index.js';
import { readProcessStart } from '../../cache/leases.js';
import { runTbuild, type CliResult } from '../helpers/cli.js';
import { useBuildEnvironment } from '../helpers/build-env.js';

interface Entry {
  readonly kind: string;
  readonly path?: string;
  readonly key?: string;
  readonly detail: string;
  readonly removed: boolean;
}

/** deadPid is the pid of a process that has exited (and been reaped). */
async function deadPid(): Promise<number> {
  const child = spawn('true');
  await new Promise<void>((resolve) => child.on('exit', () => resolve()));
  if (child.pid === undefined) throw new Error('Cannot start "true"');
  return child.pid;
}

describe('tbuild debug check-store', () => {
  const env = useBuildEnvironment();
  const root = (): string => join(env.tmp.path, 'root');
  let ctx: string;

  const build = (): Promise<CliResult> => runTbuild(['build', '--root', root(), '--config', env.config, '--progress', 'quiet', '-t', 'check-store:a', ctx]);
  const check = async (...extra: string[]): Promise<{ code: number; entries: Entry[]; stderr: string }> => {
    const r = await runTbuild(['debug', 'check-store', '--root', root(), '--format', 'json', ...extra]);
    expect(r.code === 0 || r.code === 1, r.stderr).toBe(true);
    return { code: r.code, entries: JSON.parse(r.stdout) as Entry[], stderr: r.stderr };
  };
  const blobPath = (digest: string): string => join(root(), 'content', 'blobs', 'sha256', digest.replace(/^sha256:/, ''));

  beforeAll(async () => {
    ctx = join(env.tmp.path, 'ctx');
    await mkdir(ctx, { recursive: true });
    await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nCOPY greeting /greeting\nRUN echo checked > /marker\n');
    await writeFile(join(ctx, 'greeting'), 'hello\n');
  });

  it('finds a store after real builds consistent, in text and JSON', async () => {
    const built = await build();
    expect(built.code, built.stderr).toBe(0);
    const text = await runTbuild(['debug', 'check-store', '--root', root(), '--all-blobs']);
    expect(text.code, text.stdout + text.stderr).toBe(0);
    expect(text.stdout).toBe('');
    expect(text.stderr).toMatch(/^Hashed (\d+) of \1 blobs \(all\)/);
    const json = await check();
    expect(json).toMatchObject({ code: 0, entries: [] });
    expect(json.stderr).toContain('(sample:');
    const badFormat = await runTbuild(['debug', 'check-store', '--root', root(), '--format', 'yaml']);
    expect([badFormat.code, badFormat.stderr]).toEqual([2, 'ERROR: Cannot use --format "yaml": expected "json"\n']);
    const unknown = await runTbuild(['debug', 'check-store', '--root', root(), '--bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown option "--bogus"');
  });

  it('reports each kind of damage, repairs what is safe, and a following build rebuilds what was lost', async () => {
    const imageId = (await build()).stdout.trim();
    expect(imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
    const snapshots = join(root(), 'snapshots');
    // The RUN layer is the snapshot holding /marker.
    let runLayer: string | undefined;
    for (const name of await readdir(snapshots)) {
      if ((await stat(join(snapshots, name, 'fs', 'marker')).catch(() => undefined)) !== undefined) runLayer = name;
    }
    if (runLayer === undefined) throw new Error('The build left no snapshot holding /marker');
    await rm(join(snapshots, runLayer), { recursive: true });
    await mkdir(join(snapshots, '00c0ffee00c0ffee', 'fs'), { recursive: true });
    // Damage a blob other than the image's config, which is deleted instead.
    const blobs = (await readdir(join(root(), 'content', 'blobs', 'sha256'))).filter((hex) => `sha256:${hex}` !== imageId);
    const corrupt = blobs[0];
    if (corrupt === undefined) throw new Error('The build stored no blob besides the image config');
    await appendFile(join(root(), 'content', 'blobs', 'sha256', corrupt), 'x');
    await rm(blobPath(imageId));
    const pid = await deadPid();
    await mkdir(join(root(), 'content', 'ingest'), { recursive: true });
    await writeFile(join(root(), 'content', 'ingest', `${pid}-0123456789abcdef`), 'partial');
    await mkdir(join(root(), 'tmp', 'context-leftover'), { recursive: true });
    {
      await using meta = openMetadataStore(join(root(), 'meta'));
      await meta.leases.put(`${pid}-dead`, { pid, processStart: 1, createdAt: Date.now(), expiresAt: Date.now() + 60_000 });
    }

    const damaged = await check();
    expect(damaged.code).toBe(1);
    const at = (kind: string): Entry[] => damaged.entries.filter((e) => e.kind === kind);
    expect(at('snapshot-folder-missing').map((e) => e.path)).toEqual([join(snapshots, runLayer)]);
    expect(at('record-snapshot-missing').length).toBeGreaterThan(0);
    expect(at('image-snapshot-missing').map((e) => e.key)).toEqual(['images/docker.io/library/check-store:a']);
    expect(at('orphan-snapshot-folder').map((e) => e.path)).toEqual([join(snapshots, '00c0ffee00c0ffee')]);
    expect(at('blob-digest-mismatch').map((e) => e.path)).toEqual([join(root(), 'content', 'blobs', 'sha256', corrupt)]);
    expect(at('image-blob-missing').map((e) => e.detail)).toContain(`config ${imageId} is not in the content store`);
    expect(at('stale-ingest').map((e) => e.detail)).toEqual([`partial write of process ${pid}, which is not running`]);
    expect(at('stale-temp').map((e) => e.path)).toEqual([join(root(), 'tmp', 'context-leftover')]);
    expect(at('stale-lease').map((e) => [e.key, e.detail])).toEqual([[`leases/${pid}-dead`, `lease of process ${pid}: process ${pid} is not running`]]);

    const repaired = await check('--repair');
    expect(repaired.code, JSON.stringify(repaired.entries)).toBe(0);
    expect(repaired.entries.every((e) => e.removed)).toBe(true);
    // Removing a snapshot's record leaves what named it pointing at nothing, which goes next: removed covers every kind found.
    expect([...new Set(repaired.entries.map((e) => e.kind))]).toEqual(expect.arrayContaining([...new Set(damaged.entries.map((e) => e.kind))]));
    expect(await check()).toMatchObject({ code: 0, entries: [] });

    const rebuilt = await build();
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(await check('--all-blobs')).toMatchObject({ code: 0, entries: [] });
    expect(JSON.parse(await readFile(blobPath(rebuilt.stdout.trim()), 'utf8'))).toHaveProperty('rootfs');
  });

  it('leaves what a running build may use while a live process holds a lease, and ignores the jobs table of older stores', async () => {
    const orphan = join(root(), 'snapshots', '00d0d0d0d0d0d0d0');
    await mkdir(join(orphan, 'fs'), { recursive: true });
    const pid = await deadPid();
    await writeFile(join(root(), 'content', 'ingest', `${pid}-fedcba9876543210`), 'partial');
    const processStart = await readProcessStart(process.pid);
    if (processStart === undefined) throw new Error('Cannot read the start time of the test process');
    {
      await using meta = openMetadataStore(join(root(), 'meta'));
      await meta.leases.put('live-build', { pid: process.pid, processStart, createdAt: Date.now(), expiresAt: Date.now() + 60_000 });
    }
    try {
      const repaired = await check('--repair');
      expect(repaired.code).toBe(1);
      expect(repaired.stderr).toContain(`The store is in use (a live lease of process ${process.pid})`);
      expect(repaired.entries).toMatchObject([
        { kind: 'stale-ingest', removed: true },
        { kind: 'orphan-snapshot-folder', path: orphan, removed: false },
      ]);
      expect((await stat(join(orphan, 'fs'))).isDirectory()).toBe(true);
    } finally {
      await using meta = openMetadataStore(join(root(), 'meta'));
      await meta.leases.remove('live-build');
    }
    // An earlier tbuild recorded running builds in a jobs table: a record of a live process there no longer stops a repair.
    {
      const db = open({ path: join(root(), 'meta'), compression: false, maxDbs: 32 });
      await db.openDB({ name: 'jobs', encoding: 'msgpack' }).put(`${process.pid}-old`, { pid: process.pid, startedAt: Date.now() });
      await db.close();
    }
    const text = await runTbuild(['debug', 'check-store', '--root', root(), '--repair']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toBe(`removed orphan-snapshot-folder ${orphan}: no snapshot record names this folder\n`);
    const rebuilt = await build();
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(await check()).toMatchObject({ code: 0, entries: [] });
  });
});
