// Ported from moby/buildkit frontend/dockerfile/dockerfile_cache_test.go (the cache export and import cases; the others
// are in cache.test.ts): each case names its test function. BuildKit's CacheExports and the cache-from frontend
// attribute are --cache-to and --cache-from; its client's Prune and DiskUsage are `tbuild prune --all` and `tbuild du`
// on the store the builds use; the registry is the suite's loopback registry.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect } from 'vitest';
import { run } from '../../helpers/cli.js';
import { buildkitSuite, file, ok, type BuildkitSuite } from './harness.js';
import { readTarToMap, type TarMember } from './fixtures.js';

/** CACHE_DOCKERFILE is the Dockerfile of testCacheImportExport and testImageManifestCacheImportExport. */
const CACHE_DOCKERFILE = `
FROM busybox AS base
COPY foo const
#RUN echo -n foobar > const
RUN cat /dev/urandom | head -c 100 | sha256sum > unique
FROM scratch
COPY --from=base const /
COPY --from=base unique /
`;

/** REPRODUCIBLE_DOCKERFILE is the Dockerfile of testImportExportReproducibleIDs. */
const REPRODUCIBLE_DOCKERFILE = '\nFROM busybox\nENV foo=bar\nCOPY foo /\nRUN echo bar > bar\n';

/** MULTI_PLATFORM_DOCKERFILE is the Dockerfile of testCacheMultiPlatformImportExport. */
const MULTI_PLATFORM_DOCKERFILE = `
FROM --platform=$BUILDPLATFORM busybox AS base
ARG TARGETARCH
RUN echo -n $TARGETARCH> arch && cat /dev/urandom | head -c 100 | sha256sum > unique
FROM scratch
COPY --from=base unique /
COPY --from=base arch /
`;

describe('BuildKit dockerfile_cache_test.go (cache export and import)', () => {
  const suite = buildkitSuite('dockerfile_cache_test.go');
  const { build, context, env, port } = suite;

  // dockerfile_cache_test.go testCacheReleased
  port('testCacheReleased', async () => {
    const d = await context({ Dockerfile: '\nFROM busybox\n' });
    ok(await build({ dir: d, output: 'none' }));
    ok(await build({ dir: d, output: 'none' }));
    await checkAllReleasable(suite, true);
  });

  // dockerfile_cache_test.go testExportCacheLoop (alpine there; busybox here: only echo and true run)
  port('testExportCacheLoop', async () => {
    const d = await context({
      Dockerfile: `
FROM busybox as base
RUN echo aa > /foo
WORKDIR /bar

FROM base as base1
COPY hello.txt .

FROM base as base2
COPY --from=base1 /bar/hello.txt .
RUN true

FROM scratch
COPY --from=base2 /foo /f
`,
      'hello.txt': file('hello'),
    });
    const cacheDir = join(env.tmp.path, 'export-cache-loop', 'cache');
    ok(await build({ dir: d, output: 'none', args: ['--cache-to', `type=local,dest=${cacheDir}`] }));
    const pruned = await suite.tbuild(['prune']);
    expect(pruned.code, pruned.stderr).toBe(0);
    ok(await build({ dir: d, output: 'none', args: ['--cache-to', `type=local,dest=${cacheDir}`, '--cache-from', `type=local,src=${cacheDir}`] }));
  });

  // dockerfile_cache_test.go testImageManifestCacheImportExport. BuildKit's cache config is its own format
  // (application/vnd.buildkit.cacheconfig.v0); tbuild's keys are its own, and so is its cache config's media type.
  port('testImageManifestCacheImportExport', async () => {
    const target = `${env.registry.host}/buildkit/testexportdf:latest`;
    await exportThenImport(suite, target, `type=registry,ref=${target},oci-mediatypes=true`);
    const manifest = JSON.parse(await inspectRaw(target)) as { mediaType?: string; config?: { mediaType?: string } };
    expect(manifest.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(manifest.config?.mediaType).toBe('application/vnd.tbuild.cache.config.v1+json');
  });

  // dockerfile_cache_test.go testCacheImportExport
  port('testCacheImportExport', async () => {
    const target = `${env.registry.host}/buildkit/testexportdf:latest`;
    await exportThenImport(suite, target, `type=registry,ref=${target}`);
  });

  // dockerfile_cache_test.go testCacheMultiPlatformImportExport: BuildKit reads the pushed images through its content
  // provider; here skopeo copies every platform's image of the pushed index into a layout that is read.
  port('testCacheMultiPlatformImportExport', async () => {
    const target = `${env.registry.host}/buildkit/testexportdf:multi`;
    const d = await context({ Dockerfile: MULTI_PLATFORM_DOCKERFILE });
    const push = (extra: readonly string[]) =>
      build({ dir: d, output: 'none', args: ['--platform', 'linux/amd64,linux/arm/v7', '--output', `type=image,push=true,name=${target}-img`, '--cache-to', 'type=inline', ...extra] });
    ok(await push([]));
    const first = await readPushed(env.tmp.path, `${target}-img`, 'first');
    expect(first.layers.size).toBe(2);
    expect(first.file('linux/amd64', 1, 'arch')).toBe('amd64');
    expect(first.file('linux/amd64', 0, 'unique')).not.toBe(first.file('linux/arm/v7', 0, 'unique'));
    await ensurePruneAll(suite);
    ok(await push(['--cache-from', `${target}-img`]));
    const second = await readPushed(env.tmp.path, `${target}-img`, 'second');
    expect(second.file('linux/arm/v7', 1, 'arch')).toBe('arm');
    expect(second.file('linux/amd64', 0, 'unique')).toBe(first.file('linux/amd64', 0, 'unique'));
    expect(second.file('linux/arm/v7', 0, 'unique')).toBe(first.file('linux/arm/v7', 0, 'unique'));
    expect(second.layerDigests).toEqual(first.layerDigests);
    expect(second.digest).toBe(first.digest);
  });

  // dockerfile_cache_test.go testImportExportReproducibleIDs: BuildKit reads the containerd images' targets; here each
  // build keeps its image in tbuild's local store, and --metadata-file names the image's manifest digest.
  port('testImportExportReproducibleIDs', async () => {
    const d = await context({ Dockerfile: REPRODUCIBLE_DOCKERFILE, foo: file('foobar') });
    const cacheTarget = `${env.registry.host}/test/dockerfileexpids:cache`;
    const imageTarget = async (name: string, extra: readonly string[]): Promise<string> => {
      const metadata = join(env.tmp.path, `${name.replace(/[/:]/g, '_')}.json`);
      ok(await build({ dir: d, output: 'none', args: ['-t', name, '--cache-to', `type=registry,ref=${cacheTarget}`, '--metadata-file', metadata, ...extra] }));
      const digest = (JSON.parse(await readFile(metadata, 'utf8')) as Record<string, unknown>)['containerimage.digest'];
      expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      return String(digest);
    };
    const first = await imageTarget('example.com/moby/dockerfileexpids:test', []);
    const removed = await suite.tbuild(['rmi', 'example.com/moby/dockerfileexpids:test']);
    expect(removed.code, removed.stderr).toBe(0);
    await ensurePruneAll(suite);
    const second = await imageTarget('example.com/moby/dockerfileexpids2:test', ['--cache-from', cacheTarget]);
    expect(second).toBe(first);
  });
});

/**
 * exportThenImport is the body shared by testCacheImportExport and testImageManifestCacheImportExport: a build
 * exporting its cache, a prune of everything, and a build importing the cache that must not run the RUN again.
 */
async function exportThenImport(suite: BuildkitSuite, target: string, cacheTo: string): Promise<void> {
  const d = await suite.context({ Dockerfile: CACHE_DOCKERFILE, foo: file('foobar') });
  const first = await suite.build({ dir: d, args: ['--cache-to', cacheTo] });
  ok(first);
  expect(await first.read('const')).toBe('foobar');
  const unique = await first.read('unique');
  await ensurePruneAll(suite);
  const second = await suite.build({ dir: d, args: ['--cache-from', target] });
  ok(second);
  expect(await second.read('const')).toBe('foobar');
  expect(await second.read('unique')).toBe(unique);
}

/** inspectRaw returns the manifest a registry holds for ref (the registry is plain HTTP on loopback). */
async function inspectRaw(ref: string): Promise<string> {
  const res = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]);
  expect(res.code, res.stderr).toBe(0);
  return res.stdout;
}

/** usageRecords lists the store's cache records as `tbuild du --verbose` prints them, one block of lines each. */
async function usageRecords(suite: BuildkitSuite): Promise<string[]> {
  const du = await suite.tbuild(['du', '--verbose']);
  expect(du.code, du.stderr).toBe(0);
  return du.stdout.split('\n\n').filter((block) => block.includes('ID:'));
}

/** ensurePruneAll is BuildKit's helper of that name: prune everything, and the store must list no record. */
async function ensurePruneAll(suite: BuildkitSuite): Promise<void> {
  const pruned = await suite.tbuild(['prune', '--all']);
  expect(pruned.code, pruned.stderr).toBe(0);
  expect(await usageRecords(suite)).toEqual([]);
}

/**
 * checkAllReleasable is BuildKit's helper of that name. tbuild keeps no build history records, so there are none to
 * delete first. No record may be in use once the builds ended; after a prune of everything the store lists no
 * record, and (BuildKit's containerd half) holds no snapshot and, with checkContent, no blob.
 */
async function checkAllReleasable(suite: BuildkitSuite, checkContent: boolean): Promise<void> {
  expect((await usageRecords(suite)).filter((block) => /In use:\s+true/.test(block))).toEqual([]);
  await ensurePruneAll(suite);
  const root = join(suite.env.tmp.path, 'root');
  expect(await listIfExists(join(root, 'snapshots'))).toEqual([]);
  if (checkContent) expect(await listIfExists(join(root, 'content', 'blobs', 'sha256'))).toEqual([]);
}

/** listIfExists lists a folder of the store, which is made when first needed. */
async function listIfExists(dir: string): Promise<string[]> {
  return existsSync(dir) ? readdir(dir) : [];
}

/** PushedImages is an image index read back from the registry: its digest and each platform's layers and their files. */
interface PushedImages {
  /** The digest of the pushed index, as the registry names it. */
  readonly digest: string;
  readonly layerDigests: Readonly<Record<string, readonly string[]>>;
  readonly layers: ReadonlyMap<string, readonly Map<string, TarMember>[]>;
  file(platform: string, layer: number, name: string): string | undefined;
}

/** readPushed copies every platform's image of an index into an OCI layout and reads each image's layers. */
async function readPushed(tmp: string, ref: string, name: string): Promise<PushedImages> {
  const raw = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]);
  expect(raw.code, raw.stderr).toBe(0);
  const index = JSON.parse(raw.stdout) as { manifests: { digest: string; platform?: { os: string; architecture: string; variant?: string } }[] };
  const layout = join(tmp, `pushed-${name}`);
  const copy = await run('skopeo', ['copy', '--quiet', '--multi-arch', 'all', '--src-tls-verify=false', `docker://${ref}`, `oci:${layout}:x`]);
  expect(copy.code, copy.stderr).toBe(0);
  const blob = async (digest: string): Promise<Buffer> => readFile(join(layout, 'blobs', 'sha256', digest.slice('sha256:'.length)));
  const layers = new Map<string, Map<string, TarMember>[]>();
  const layerDigests: Record<string, string[]> = {};
  for (const m of index.manifests) {
    const p = m.platform;
    if (p === undefined || p.os === 'unknown') continue;
    const manifest = JSON.parse((await blob(m.digest)).toString()) as { layers: { digest: string }[] };
    const files: Map<string, TarMember>[] = [];
    for (const l of manifest.layers) files.push(await readTarToMap(gunzipSync(await blob(l.digest))));
    const platform = [p.os, p.architecture, ...(p.variant === undefined ? [] : [p.variant])].join('/');
    layers.set(platform, files);
    layerDigests[platform] = manifest.layers.map((l) => l.digest);
  }
  return { digest: `sha256:${createHash('sha256').update(raw.stdout).digest('hex')}`, layerDigests, layers, file: (platform, layer, file) => layers.get(platform)?.[layer]?.get(file)?.data.toString().trim() };
}
