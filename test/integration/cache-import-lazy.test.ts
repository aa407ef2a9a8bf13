import { cp, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, run, runTbuild, type CliResult } from '../helpers/cli.js';
import { startRegistry } from '../fixtures/registry.js';
import { useBuildEnvironment } from '../helpers/build-env.js';
import { expectAllCached, plainSteps } from '../helpers/plain-steps.js';

interface Built {
  readonly res: CliResult;
  readonly root: string;
  readonly digest: string | undefined;
  readonly ms: number;
}

interface StoreContents {
  /** Blobs in the root's content store, by digest. */
  readonly blobs: ReadonlyMap<string, number>;
  /** Layer folders under the root's snapshots/. */
  readonly snapshots: number;
}

async function contentsOf(root: string): Promise<StoreContents> {
  const blobs = new Map<string, number>();
  const dir = join(root, 'content/blobs/sha256');
  for (const hex of await readdir(dir).catch((err: unknown) => (isMissing(err) ? [] : Promise.reject(err)))) {
    blobs.set(`sha256:${hex}`, (await stat(join(dir, hex))).size);
  }
  const snapshots = (await readdir(join(root, 'snapshots'))).length;
  return { blobs, snapshots };
}

function isMissing(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && err.code === 'ENOENT';
}

/** Layer digests of the manifest a registry serves for a reference. */
async function layersOf(registry: string, repo: string, reference: string): Promise<string[]> {
  const res = await fetch(`http://${registry}/v2/${repo}/manifests/${reference}`, {
    headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' },
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { layers: { digest: string }[] }).layers.map((l) => l.digest);
}

describe('lazy --cache-from: a fully cached build fetches only what its outputs need', () => {
  const env = useBuildEnvironment();
  let ctx: string;
  let roots = 0;
  const cacheRef = (): string => `${env.registry.host}/cache/lazy:max`;

  const build = async (args: readonly string[], context = ctx): Promise<Built> => {
    const root = join(env.tmp.path, `root-${roots++}`);
    const meta = join(env.tmp.path, `meta-${roots}.json`);
    const started = Date.now();
    const res = await runTbuild(['build', '--root', root, '--config', env.config, '--progress', 'plain', '--metadata-file', meta, ...args, context], {
      // The compared digests are the pushed images': buildx's default provenance, dated per build, is turned off.
      env: { SOURCE_DATE_EPOCH: '1700000000', BUILDX_NO_DEFAULT_ATTESTATIONS: '1' },
    });
    const ms = Date.now() - started;
    const digest = res.code === 0 ? (JSON.parse(await readFile(meta, 'utf8')) as Record<string, string | undefined>)['containerimage.digest'] : undefined;
    return { res, root, digest, ms };
  };

  let first: Built;
  let imageLayers: string[];

  beforeAll(async () => {
    ctx = join(env.tmp.path, 'ctx');
    await cp(join(REPO_ROOT, 'examples/hello'), ctx, { recursive: true });
    first = await build(['-t', `${env.registry.host}/test/lazy:a`, '--push', '--cache-to', `type=registry,ref=${cacheRef()},mode=max`]);
    expect(first.res.code, first.res.stderr).toBe(0);
    imageLayers = await layersOf(env.registry.host, 'test/lazy', 'a');
  });

  it('pushes to another repository of the cache registry without downloading or unpacking a layer', async () => {
    const second = await build(['-t', `${env.registry.host}/other/lazy:b`, '--push', '--cache-from', `type=registry,ref=${cacheRef()}`]);
    expectAllCached(second.res);
    expect(second.digest).toBe(first.digest);
    expect(await layersOf(env.registry.host, 'other/lazy', 'b')).toEqual(imageLayers);
    const store = await contentsOf(second.root);
    const bytes = [...store.blobs.values()].reduce((a, b) => a + b, 0);
    console.info(`push from an imported cache: ${second.ms} ms, ${store.blobs.size} blobs (${bytes} bytes), ${store.snapshots} snapshots in the store`);
    for (const layer of imageLayers) expect(store.blobs.has(layer), `layer ${layer} was downloaded`).toBe(false);
    expect(store.snapshots).toBe(0);
  });

  it('downloads the imported layers only when pushing to another registry, which cannot mount them', async () => {
    await using elsewhere = await startRegistry();
    const res = await build(['-t', `${elsewhere.host}/moved/lazy:c`, '--push', '--cache-from', cacheRef()]);
    expectAllCached(res.res);
    expect(res.digest).toBe(first.digest);
    expect(await layersOf(elsewhere.host, 'moved/lazy', 'c')).toEqual(imageLayers);
    const store = await contentsOf(res.root);
    for (const layer of imageLayers) expect(store.blobs.has(layer), `layer ${layer} was not downloaded`).toBe(true);
    expect(store.snapshots).toBe(0);
  });

  it('keeps an image named only in the local store as downloaded blobs, unpacking nothing', async () => {
    const res = await build(['-t', 'lazy/local:v1', '--cache-from', cacheRef()]);
    expectAllCached(res.res);
    const store = await contentsOf(res.root);
    for (const layer of imageLayers) expect(store.blobs.has(layer), `layer ${layer} was not downloaded`).toBe(true);
    expect(store.snapshots).toBe(0);
    const images = await runTbuild(['images', '--root', res.root]);
    expect(images.stdout).toContain('lazy/local');
    // The image holds its blobs: collecting every cache record leaves them.
    const pruned = await runTbuild(['prune', '--all', '--root', res.root]);
    expect(pruned.code, pruned.stderr).toBe(0);
    const after = await contentsOf(res.root);
    for (const layer of imageLayers) expect(after.blobs.has(layer), `layer ${layer} was collected`).toBe(true);
  });

  it('writes an OCI tarball from downloaded blobs without unpacking them', async () => {
    const tar = join(env.tmp.path, 'lazy.oci.tar');
    const res = await build(['-o', `type=oci,dest=${tar}`, '--cache-from', `type=registry,ref=${cacheRef()}`]);
    expectAllCached(res.res);
    const store = await contentsOf(res.root);
    for (const layer of imageLayers) expect(store.blobs.has(layer), `layer ${layer} was not downloaded`).toBe(true);
    expect(store.snapshots).toBe(0);
    const layout = join(env.tmp.path, 'lazy-layout');
    await mkdir(layout);
    const untar = await run('tar', ['-xf', tar, '-C', layout]);
    expect(untar.code, untar.stderr).toBe(0);
    const validate = await run('oci-image-tool', ['validate', '--type', 'image', layout]);
    expect(validate.code, validate.stdout + validate.stderr).toBe(0);
    const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    expect(index.manifests[0]?.digest).toBe(first.digest);
    // Download progress belongs to the export step, not to an unnumbered "#0".
    expect(res.res.stderr).not.toMatch(/^#0 sha256:/m);
  });

  it('unpacks the imported layers when an output needs the files', async () => {
    const dest = join(env.tmp.path, 'lazy-local');
    const res = await build(['-o', `type=local,dest=${dest}`, '--cache-from', `type=registry,ref=${cacheRef()}`]);
    expectAllCached(res.res);
    expect(await readFile(join(dest, 'app/greeting.txt'), 'utf8')).toBe('hello from tbuild\n');
    expect((await contentsOf(res.root)).snapshots).toBeGreaterThan(0);
  });

  it('re-exports imported records with mode=max without downloading them', async () => {
    const again = `${env.registry.host}/cache/lazy:again`;
    const relay = await build(['-t', `${env.registry.host}/other/lazy:relay`, '--push', '--cache-from', cacheRef(), '--cache-to', `type=registry,ref=${again},mode=max`]);
    expectAllCached(relay.res);
    const store = await contentsOf(relay.root);
    for (const layer of imageLayers) expect(store.blobs.has(layer), `layer ${layer} was downloaded`).toBe(false);
    const last = await build(['-t', `${env.registry.host}/other/lazy:last`, '--push', '--cache-from', again]);
    expectAllCached(last.res);
    expect(last.digest).toBe(first.digest);
  });

  it('relays imported records into a local cache folder, downloading their blobs and unpacking nothing', async () => {
    const dir = join(env.tmp.path, 'relay-local');
    const relay = await build(['--cache-from', cacheRef(), '--cache-to', `type=local,dest=${dir},mode=max`]);
    expectAllCached(relay.res);
    expect((await contentsOf(relay.root)).snapshots).toBe(0);
    const last = await build(['-t', `${env.registry.host}/other/lazy:from-local`, '--push', '--cache-from', `type=local,src=${dir}`]);
    expectAllCached(last.res);
    expect(last.digest).toBe(first.digest);
  });

  it('reruns only the steps after a changed file, unpacking the cached layers they build on', async () => {
    const changed = join(env.tmp.path, 'ctx-changed');
    await cp(ctx, changed, { recursive: true });
    await writeFile(join(changed, 'data/two.txt'), 'changed\n');
    const res = await build(['-t', `${env.registry.host}/other/lazy:changed`, '--push', '--cache-from', cacheRef()], changed);
    expect(res.res.code, res.res.stderr).toBe(0);
    const byName = new Map(plainSteps(res.res.stderr).map((s) => [s.name.split(' ').slice(1, 3).join(' '), s.cached]));
    expect(byName.get('COPY greet.sh')).toBe(true);
    expect(byName.get('COPY data/')).toBe(false);
    expect(byName.get('RUN chmod')).toBe(false);
    expect(res.res.stderr).not.toMatch(/^#0 sha256:/m);
  });
});
