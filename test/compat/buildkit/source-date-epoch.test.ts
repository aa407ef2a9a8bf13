// Ported from moby/buildkit frontend/dockerfile/dockerfile_source_date_epoch_test.go: each case names its test function.
// BuildKit's OCI exporter is tbuild's `--output type=oci` and its exporter attributes are that output's attributes;
// BuildKit's "context" and "context:NAME" frontend attributes are the context argument and `--build-context NAME=URL`.
// Its Dockerfiles use scratch and busybox; busybox comes from the loopback registry. Git and HTTP serve on loopback.
import { gunzipSync } from 'node:zlib';
import { describe, expect } from 'vitest';
import { buildkitSuite, fails, ok, type BuildResult } from './harness.js';
import { commitRepo, makeTar, readTarToMap, serveDir, useHttpServer, type TarMember } from './fixtures.js';

const REWRITTEN = 'buildkit/rewritten-timestamp';

interface Descriptor {
  readonly digest: string;
  readonly annotations?: Record<string, string>;
}

interface Manifest {
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
}

/** blobs reads an OCI archive's blobs by digest. */
async function blobs(res: BuildResult): Promise<(digest: string) => Buffer> {
  const files = await readTarToMap(res.archive);
  return (digest) => {
    const data = files.get(`blobs/${digest.replace(':', '/')}`)?.data;
    if (data === undefined) throw new Error(`no blob ${digest} in ${res.archive}`);
    return data;
  };
}

/** readOCIManifest is the manifest the archive's index names first (BuildKit's readOCIManifest). */
async function readOCIManifest(res: BuildResult): Promise<Manifest> {
  const blob = await blobs(res);
  const files = await readTarToMap(res.archive);
  const index = JSON.parse(files.get('index.json')?.data.toString() ?? '{}') as { manifests: Descriptor[] };
  return JSON.parse(blob(index.manifests[0]?.digest ?? '').toString()) as Manifest;
}

/** readOCILayerMap reads one layer of the archive as a map of entry name → member (BuildKit's readOCILayerMap). */
async function readOCILayerMap(res: BuildResult, layer: Descriptor): Promise<Map<string, TarMember>> {
  const data = (await blobs(res))(layer.digest);
  return readTarToMap(data[0] === 0x1f && data[1] === 0x8b ? gunzipSync(data) : data);
}

/** readOCIImageCreated is the image config's creation time, in seconds. */
async function readOCIImageCreated(res: BuildResult): Promise<number> {
  const created = (await res.image()).created;
  expect(created).toBeDefined();
  return Date.parse(created ?? '') / 1000;
}

/** onlyLayerRewritten checks the build made an image of one layer and returns that layer's rewritten-timestamp ('' for none). */
async function onlyLayerRewritten(res: BuildResult): Promise<string> {
  ok(res);
  const mfst = await readOCIManifest(res);
  expect(mfst.layers).toHaveLength(1);
  return mfst.layers[0]?.annotations?.[REWRITTEN] ?? '';
}

/** REWRITING is an OCI export with BuildKit's rewrite-timestamp exporter attribute. */
const REWRITING = { output: 'oci', outputAttrs: { 'rewrite-timestamp': 'true' } } as const;

/** makeTarContext is an archive of files with their modification times (seconds), mode 0600 (BuildKit's makeTarContext). */
function makeTarContext(files: readonly { name: string; data: string; modTime: number }[]): Promise<Buffer> {
  return makeTar(files.map((f) => ({ name: f.name, content: f.data, mode: 0o600, mtime: new Date(f.modTime * 1000) })));
}

describe('BuildKit dockerfile_source_date_epoch_test.go', () => {
  const { build, context, port } = buildkitSuite('dockerfile_source_date_epoch_test.go');
  const http = useHttpServer();
  let etags = 0;
  const etag = (): string => `sde-${++etags}-${Date.now()}`;

  // dockerfile_source_date_epoch_test.go testSourceDateEpochWithoutExporter
  port('testSourceDateEpochWithoutExporter', async () => {
    const tm = 1700000001;
    const res = await build({
      files: { Dockerfile: '\nFROM scratch\nENTRYPOINT foo bar\nCOPY Dockerfile .\n' },
      buildArgs: { SOURCE_DATE_EPOCH: String(tm) },
      // disable exporter epoch to make sure we test dockerfile
      output: 'oci',
      outputAttrs: { 'source-date-epoch': '' },
    });
    ok(res);
    const img = await res.image();
    expect(Date.parse(img.created ?? '') / 1000).toBe(tm);
    for (const h of img.history ?? []) expect(Date.parse((h as { created?: string }).created ?? '') / 1000).toBe(tm);
  });

  // dockerfile_source_date_epoch_test.go testSourceDateEpochDockerfileDefault
  port('testSourceDateEpochDockerfileDefault', async () => {
    const tm = Date.UTC(2015, 9, 21, 7, 28, 0) / 1000;
    const res = await build({
      files: { Dockerfile: `\nARG SOURCE_DATE_EPOCH=${tm}\nFROM scratch\nCOPY Dockerfile .\n` },
      ...REWRITING,
    });
    expect(await onlyLayerRewritten(res)).toBe(String(tm));
  });

  // dockerfile_source_date_epoch_test.go testSourceDateEpochDockerfileDefaultOverride
  port('testSourceDateEpochDockerfileDefaultOverride', async () => {
    const [defaultTM, overrideTM] = [1700000001, 1700000002];
    const res = await build({
      files: { Dockerfile: `\nARG SOURCE_DATE_EPOCH=${defaultTM}\nFROM scratch\nCOPY Dockerfile .\n` },
      buildArgs: { SOURCE_DATE_EPOCH: String(overrideTM) },
      ...REWRITING,
    });
    expect(await onlyLayerRewritten(res)).toBe(String(overrideTM));
  });

  // dockerfile_source_date_epoch_test.go testSourceDateEpochDockerfileDefaultReset
  port('testSourceDateEpochDockerfileDefaultReset', async () => {
    const tm = Date.UTC(2015, 9, 21, 7, 28, 0) / 1000;
    const res = await build({
      files: { Dockerfile: `\nARG SOURCE_DATE_EPOCH=${tm}\nFROM scratch\nCOPY Dockerfile .\n` },
      output: 'oci',
      outputAttrs: { 'source-date-epoch': '', 'rewrite-timestamp': 'true' },
    });
    expect(await onlyLayerRewritten(res)).toBe('');
  });

  // dockerfile_source_date_epoch_test.go testSourceDateEpochDockerfileDefaultInvalid
  port('testSourceDateEpochDockerfileDefaultInvalid', async () => {
    const res = await build({ files: { Dockerfile: '\nARG SOURCE_DATE_EPOCH=not-a-timestamp\nFROM scratch\nCOPY Dockerfile .\n' }, output: 'oci' });
    fails(res, 'invalid SOURCE_DATE_EPOCH: not-a-timestamp');
  });

  // dockerfile_source_date_epoch_test.go testSourceDateEpochContextGit
  port('testSourceDateEpochContextGit', async () => {
    const gitDir = await context({ Dockerfile: 'FROM scratch\nCOPY Dockerfile /\n' });
    const commitTime = 1700000101;
    await commitRepo(gitDir, { date: new Date(commitTime * 1000).toISOString().replace(/\.000Z$/, 'Z') });
    await using server = await serveDir(gitDir);
    const res = await build({ dir: gitDir, contextArg: `${server.url}/.git`, buildArgs: { SOURCE_DATE_EPOCH: 'context' }, output: 'oci' });
    ok(res);
    expect(await readOCIImageCreated(res)).toBe(commitTime);
  });

  // dockerfile_source_date_epoch_test.go testSourceDateEpochContextHTTPLastModified
  port('testSourceDateEpochContextHTTPLastModified', async () => {
    const [lastModified, archiveMaxTime] = [1700000201, 1700000202];
    const content = await makeTarContext([
      { name: 'Dockerfile', data: 'FROM scratch\nCOPY foo /\n', modTime: archiveMaxTime - 3600 },
      { name: 'foo', data: 'bar', modTime: archiveMaxTime },
    ]);
    http.set({ '/last-modified/context.tar': { etag: etag(), lastModified: new Date(lastModified * 1000), content } });
    const res = await build({ dir: await context({}), contextArg: `${http.url}/last-modified/context.tar`, buildArgs: { SOURCE_DATE_EPOCH: 'context' }, output: 'oci' });
    ok(res);
    expect(await readOCIImageCreated(res)).toBe(lastModified);
  });

  // dockerfile_source_date_epoch_test.go testSourceDateEpochContextHTTPArchive
  port('testSourceDateEpochContextHTTPArchive', async () => {
    const archiveMaxTime = 1700000302;
    const content = await makeTarContext([
      { name: 'Dockerfile', data: 'FROM busybox\nARG SOURCE_DATE_EPOCH\nRUN echo -n "$SOURCE_DATE_EPOCH" >/epoch\n', modTime: archiveMaxTime - 3600 },
      { name: 'foo', data: 'bar', modTime: archiveMaxTime },
    ]);
    http.set({ '/archive/context.tar': { etag: etag(), content } });
    const res = await build({
      dir: await context({}),
      contextArg: `${http.url}/archive/context.tar`,
      buildArgs: { SOURCE_DATE_EPOCH: 'context' },
      ...REWRITING,
    });
    ok(res);
    await expectEpochLayer(res, archiveMaxTime);
  });

  /** expectEpochLayer checks the top layer is marked rewritten at the epoch and its /epoch file says it, as the image date does. */
  async function expectEpochLayer(res: BuildResult, epoch: number): Promise<void> {
    const mfst = await readOCIManifest(res);
    expect(mfst.layers.length).toBeGreaterThan(0);
    const top = mfst.layers[mfst.layers.length - 1];
    expect(top?.annotations?.[REWRITTEN]).toBe(String(epoch));
    const layerMap = await readOCILayerMap(res, top ?? { digest: '' });
    expect(layerMap.get('epoch')?.data.toString()).toBe(String(epoch));
    expect(await readOCIImageCreated(res)).toBe(epoch);
  }

  // dockerfile_source_date_epoch_test.go testSourceDateEpochContextLocalUnset
  port('testSourceDateEpochContextLocalUnset', async () => {
    const res = await build({
      files: { Dockerfile: 'FROM scratch\nCOPY Dockerfile /\n' },
      buildArgs: { SOURCE_DATE_EPOCH: 'context' },
      ...REWRITING,
    });
    expect(await onlyLayerRewritten(res)).toBe('');
  });

  // dockerfile_source_date_epoch_test.go testSourceDateEpochStageHTTPArchive
  port('testSourceDateEpochStageHTTPArchive', async () => {
    const archiveMaxTime = 1700000402;
    http.set({ '/stage-archive/src.tar': { etag: etag(), content: await makeTarContext([{ name: 'foo', data: 'bar', modTime: archiveMaxTime }]) } });
    const dockerfile = `\nARG SOURCE_DATE_EPOCH=mysource\nFROM scratch AS mysource\nADD ${http.url}/stage-archive/src.tar /\nFROM busybox\nARG SOURCE_DATE_EPOCH\nRUN echo -n "$SOURCE_DATE_EPOCH" >/epoch\n`;
    const res = await build({ files: { Dockerfile: dockerfile }, ...REWRITING });
    ok(res);
    await expectEpochLayer(res, archiveMaxTime);
  });

  // dockerfile_source_date_epoch_test.go testSourceDateEpochStageOverride
  port('testSourceDateEpochStageOverride', async () => {
    const [defaultTime, overrideTime] = [1700000501, 1700000502];
    http.set({ '/stage-override/src.tar': { etag: etag(), content: await makeTarContext([{ name: 'foo', data: 'bar', modTime: defaultTime }]) } });
    const dockerfile = `\nARG SOURCE_DATE_EPOCH=mysource\nFROM scratch AS mysource\nADD ${http.url}/stage-override/src.tar /\nFROM scratch\nCOPY Dockerfile .\n`;
    const res = await build({
      files: { Dockerfile: dockerfile },
      buildArgs: { SOURCE_DATE_EPOCH: String(overrideTime) },
      ...REWRITING,
    });
    expect(await onlyLayerRewritten(res)).toBe(String(overrideTime));
  });

  // dockerfile_source_date_epoch_test.go testSourceDateEpochStageInvalid
  port('testSourceDateEpochStageInvalid', async () => {
    const dockerfile = '\nARG SOURCE_DATE_EPOCH=mysource\nFROM scratch AS mysource\nCOPY Dockerfile /Dockerfile\nFROM scratch\n';
    const res = await build({ files: { Dockerfile: dockerfile }, output: 'oci' });
    fails(res, 'SOURCE_DATE_EPOCH stage does not meet source-only requirements');
  });

  // dockerfile_source_date_epoch_test.go testSourceDateEpochNamedContextHTTPLastModified
  port('testSourceDateEpochNamedContextHTTPLastModified', async () => {
    const lastModified = 1700000601;
    const content = await makeTarContext([{ name: 'foo', data: 'bar', modTime: lastModified + 3600 }]);
    http.set({ '/named-last-modified/src.tar': { etag: etag(), lastModified: new Date(lastModified * 1000), content } });
    const res = await build({
      files: { Dockerfile: '\nARG SOURCE_DATE_EPOCH=mysource\nFROM scratch\nCOPY Dockerfile .\n' },
      args: ['--build-context', `mysource=${http.url}/named-last-modified/src.tar`],
      ...REWRITING,
    });
    expect(await onlyLayerRewritten(res)).toBe(String(lastModified));
    expect(await readOCIImageCreated(res)).toBe(lastModified);
  });

  // dockerfile_source_date_epoch_test.go testSourceDateEpochNamedContextHTTPArchive
  port('testSourceDateEpochNamedContextHTTPArchive', async () => {
    const archiveMaxTime = 1700000602;
    http.set({ '/named-archive/src.tar': { etag: etag(), content: await makeTarContext([{ name: 'foo', data: 'bar', modTime: archiveMaxTime }]) } });
    const res = await build({
      files: { Dockerfile: '\nARG SOURCE_DATE_EPOCH=mysource\nFROM busybox\nARG SOURCE_DATE_EPOCH\nRUN echo -n "$SOURCE_DATE_EPOCH" >/epoch\n' },
      args: ['--build-context', `mysource=${http.url}/named-archive/src.tar`],
      ...REWRITING,
    });
    ok(res);
    await expectEpochLayer(res, archiveMaxTime);
  });
});
