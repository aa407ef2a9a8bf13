// Ported from moby/buildkit frontend/dockerfile/dockerfile_namedcontext_test.go: each case names its test function.
// BuildKit's "context:NAME" frontend attributes are --build-context NAME=...; its images go to the suite's loopback
// registry. Offline there is no alpine image: the registry's library/alpine is a copy of the fixture busybox, so the
// Dockerfiles stay as BuildKit wrote them (none of these reads a file only alpine has). testEagerNamedContextLookup
// needs it most: its busybox is replaced by a missing image, so the stage that runs must have another base.
import { describe, expect, beforeAll } from 'vitest';
import { run } from '../../helpers/cli.js';
import { buildkitSuite, file, ok, type BuildkitSuite, type ImageConfig } from './harness.js';
import { exportLayout, readTarToMap, type OciIndex } from './fixtures.js';

describe('BuildKit dockerfile_namedcontext_test.go', () => {
  const suite = buildkitSuite('dockerfile_namedcontext_test.go');
  const { build, context, env, port } = suite;

  beforeAll(async () => {
    const host = env.registry.host;
    const copy = await run('skopeo', ['copy', '-q', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${host}/library/busybox:latest`, `docker://${host}/library/alpine:latest`]);
    expect(copy.code, copy.stderr).toBe(0);
  });

  // dockerfile_namedcontext_test.go testNamedImageContextTimestamps
  port('testNamedImageContextTimestamps', async () => {
    const dockerfile = '\nFROM alpine\nRUN echo foo >> /test\n';
    const target = `${env.registry.host}/buildkit/testnamedimagecontexttimestamps:latest`;
    ok(await build({ files: { Dockerfile: dockerfile }, output: 'none', args: ['--output', `type=image,name=${target},push=true`] }));
    const img = await pushedConfig(target);
    const targetDerived = `${env.registry.host}/buildkit/testnamedimagecontexttimestampsderived:latest`;
    ok(
      await build({
        files: { Dockerfile: dockerfile },
        output: 'none',
        args: ['--build-context', `alpine=docker-image://${target}`, '--output', `type=image,name=${targetDerived},push=true`],
      }),
    );
    const imgDerived = await pushedConfig(targetDerived);
    expect(imgDerived.created).not.toBe(img.created);
    const diff = Date.parse(imgDerived.created ?? '') - Date.parse(img.created ?? '');
    expect(diff).toBeGreaterThan(0);
    expect(diff).toBeLessThan(10 * 60 * 1000);
  });

  // dockerfile_namedcontext_test.go testNamedFilteredContext: BuildKit counts the bytes its session transfers for the
  // "[context foo] load from client" vertex (statuses named "transferring"). An embedded tbuild build reads the folder
  // in place: the vertex's status says how many bytes of the context it loads (ids "loading NAME:").
  const FILTERED_BASE = `
FROM scratch AS copy_from
COPY --from=foo /foo /

FROM alpine AS run_mount
RUN --mount=from=foo,src=/foo,target=/in/foo cp /in/foo /foo

FROM foo AS image_source
COPY --from=alpine / /
RUN cat /foo > /bar

FROM scratch AS all
COPY --link --from=copy_from /foo /foo.b
COPY --link --from=run_mount /foo /foo.c
COPY --link --from=image_source /bar /foo.d
`;
  const FILTERED_FULL = `
FROM scratch AS foo
COPY <<EOF /foo
test
EOF
${FILTERED_BASE}`;
  let fooDir: string | undefined;
  const filteredCases = async (dockerfile: string): Promise<void> => {
    // small file, and a blank file that's just large
    fooDir ??= await context({ foo: file('foo'), bar: file(Buffer.alloc(4096 * 1000)) });
    const max = Number.MAX_SAFE_INTEGER;
    for (const [target, min, most] of [['run_mount', 1, 1024], ['copy_from', 1, 1024], ['image_source', 4096 * 1000, max], ['all', 4096 * 1000, max]] as const) {
      const loaded = await contextLoad(suite, { dockerfile, target, fooDir });
      expect(loaded, `${target}: data loaded from context foo`).toBeGreaterThanOrEqual(min);
      expect(loaded, `${target}: data loaded from context foo`).toBeLessThanOrEqual(most);
    }
  };
  port('testNamedFilteredContext', () => filteredCases(FILTERED_BASE), 'new');
  port('testNamedFilteredContext', () => filteredCases(FILTERED_FULL), 'replace');

  // dockerfile_namedcontext_test.go testNamedOCILayoutContext: an image exported as an OCI layout replaces a stage
  // (base) and a base image (foo) by digest; BuildKit's "context:NAME" = "oci-layout:STORE@sha256:…" with the store
  // among the client's OCI stores is buildx's --build-context NAME=oci-layout://DIR@sha256:….
  port('testNamedOCILayoutContext', async () => {
    const oci = '\n\tFROM busybox:latest\n\tWORKDIR /test\n\tRUN sh -c "echo -n first > out"\n\tRUN sh -c "echo -n second > out2"\n\tENV foo=bar\n\t';
    const { dir: ocidir, digest } = await exportLayout(suite, oci, 'testnamedocilayoutcontext');
    const dockerfile = `
FROM busybox AS base
RUN cat /etc/alpine-release > out

FROM foo AS imported
RUN echo -n $foo > outfoo

FROM scratch
COPY --from=base /test/o* /
COPY --from=imported /test/outfoo /
`;
    const res = await build({ files: { Dockerfile: dockerfile }, args: ['--build-context', `base=oci-layout://${ocidir}@${digest}`, '--build-context', `foo=oci-layout://${ocidir}@${digest}`] });
    ok(res);
    expect(await res.read('out')).toBe('first');
    expect(await res.read('out2')).toBe('second');
    expect(await res.read('outfoo')).toBe('bar');
  });

  // dockerfile_namedcontext_test.go testNamedOCILayoutContextExport: the image config of the layout's image is the
  // exported image's.
  port('testNamedOCILayoutContextExport', async () => {
    const layout = await exportLayout(suite, '\nFROM scratch\nWORKDIR /test\nENV foo=bar\n\t', 'testnamedocilayoutcontextexport');
    const res = await build({ files: { Dockerfile: '\nFROM nonexistent AS base\n' }, output: 'oci', args: ['--build-context', `nonexistent=oci-layout://${layout.dir}@${layout.digest}`] });
    ok(res);
    const m = await readTarToMap(res.archive);
    const exported = JSON.parse(m.get('index.json')?.data.toString() ?? '{}') as OciIndex;
    expect(exported.manifests).toHaveLength(1);
    const blob = (d: string | undefined): Buffer | undefined => m.get(`blobs/sha256/${(d ?? '').replace(/^sha256:/, '')}`)?.data;
    const mfst = JSON.parse(blob(exported.manifests[0]?.digest)?.toString() ?? '{}') as { config: { digest: string } };
    const cfg = JSON.parse(blob(mfst.config.digest)?.toString() ?? '{}') as ImageConfig;
    expect(cfg.config.WorkingDir).toBe('/test');
    expect(cfg.config.Env).toContain('foo=bar');
  });

  // dockerfile_namedcontext_test.go testEagerNamedContextLookup: named contexts the build does not use are not loaded.
  port('testEagerNamedContextLookup', async () => {
    const res = await build({
      files: {
        Dockerfile: `
FROM broken AS notused

FROM alpine AS base
RUN echo "base" > /foo

FROM busybox AS otherstage

FROM scratch
COPY --from=base /foo /foo
	`,
      },
      args: ['--build-context', 'notused=docker-image://docker.io/library/nosuchimage:latest', '--build-context', 'busybox=docker-image://docker.io/library/dontexist:latest'],
    });
    ok(res);
    expect(await res.read('foo')).toBe('base\n');
  });
});

/** pushedConfig reads the config of an image the loopback registry holds. */
async function pushedConfig(ref: string): Promise<{ created?: string }> {
  const res = await run('skopeo', ['inspect', '--config', '--tls-verify=false', `docker://${ref}`]);
  expect(res.code, res.stderr).toBe(0);
  return JSON.parse(res.stdout) as { created?: string };
}

/**
 * contextLoad builds a target with the named context foo and returns the most bytes a status of a vertex named
 * "[context foo] load from client" reported loading (BuildKit's test reads its "transferring" statuses the same way).
 */
async function contextLoad(suite: BuildkitSuite, o: { dockerfile: string; target: string; fooDir: string }): Promise<number> {
  const res = await suite.build({
    files: { Dockerfile: o.dockerfile },
    target: o.target,
    output: 'none',
    args: ['--build-context', `foo=${o.fooDir}`, '--progress', 'json'],
  });
  ok(res);
  const names = new Map<string, string>();
  const loaded = new Map<string, number>();
  for (const line of res.stderr.split('\n')) {
    if (!line.startsWith('{')) continue;
    const e = JSON.parse(line) as { type: string; vertex?: string; name?: string; id?: string; current?: number };
    if (e.vertex === undefined) continue;
    if (e.name !== undefined) names.set(e.vertex, e.name);
    if (e.type === 'status' && e.id?.startsWith('loading ') === true) loaded.set(e.vertex, Math.max(loaded.get(e.vertex) ?? 0, e.current ?? 0));
  }
  let foo = 0;
  for (const [vertex, bytes] of loaded) if (names.get(vertex) === '[context foo] load from client' && bytes > foo) foo = bytes;
  return foo;
}
