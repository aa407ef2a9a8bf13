import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { run, runTbuild } from '../helpers/cli.js';
import { useBuildEnvironment, useRemoteBuilder } from '../helpers/build-env.js';

type Meta = Record<string, unknown>;

const DIGEST = /^sha256:[a-f0-9]{64}$/;
// Go's time.Time marshals as RFC 3339 with a fraction of at most nine digits and no trailing zeros.
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z$/;

/**
 * buildx's --metadata-file and --progress rawjson, as CI tools written for buildx read them, and the BuildKit output
 * attributes CI pipelines use: push-by-digest, name-canonical and tar=false.
 */
describe('tbuild build --metadata-file, --progress rawjson and output attributes', () => {
  const env = useBuildEnvironment();
  const remote = useRemoteBuilder(env);
  let ctx: string;
  const base = (): string[] => ['--root', join(env.tmp.path, 'root'), '--config', env.config];
  const readMeta = async (path: string): Promise<Meta> => JSON.parse(await readFile(path, 'utf8')) as Meta;

  beforeAll(async () => {
    ctx = join(env.tmp.path, 'ctx');
    await mkdir(ctx);
    // `as` in lowercase is a check finding (FromAsCasing), which buildx reports as a warning.
    await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox as base\nRUN echo from-the-run-step && echo to-stderr >&2\n');
  });

  it('writes buildx keys and shapes for a push, and prints BuildKit SolveStatus lines', async () => {
    const h = env.registry.host;
    const meta = join(env.tmp.path, 'push.json');
    const res = await runTbuild(['build', ...base(), '--progress', 'rawjson', '--metadata-file', meta, '-t', `${h}/meta/app:v1`, '--push', ctx], {
      env: { ...process.env, BUILDX_METADATA_WARNINGS: '1' },
    });
    expect(res.code, res.stderr).toBe(0);
    const m = await readMeta(meta);
    // Go writes a map's keys sorted.
    expect(Object.keys(m)).toEqual(['buildx.build.provenance', 'buildx.build.ref', 'buildx.build.warnings', 'containerimage.descriptor', 'containerimage.digest', 'image.name']);
    // The push carries buildx's default provenance, so the image is an index, which has no config digest.
    const descriptor = m['containerimage.descriptor'] as { mediaType: string; digest: string; size: number };
    expect(Object.keys(descriptor)).toEqual(['mediaType', 'digest', 'size']);
    expect(descriptor.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(m['containerimage.digest']).toBe(descriptor.digest);
    const head = await fetch(`http://${h}/v2/meta/app/manifests/v1`, { method: 'HEAD', headers: { accept: descriptor.mediaType } });
    expect(head.headers.get('docker-content-digest')).toBe(descriptor.digest);
    expect(Number(head.headers.get('content-length'))).toBe(descriptor.size);
    expect(m['image.name']).toBe(`${h}/meta/app:v1`);
    expect(m['buildx.build.ref']).toMatch(/^tbuild\/embedded\/[0-9a-f]+$/);
    // min mode: the SLSA v0.2 predicate without buildConfig and metadata.
    const provenance = m['buildx.build.provenance'] as Record<string, unknown>;
    expect(Object.keys(provenance)).toEqual(['builder', 'buildType', 'materials', 'invocation']);
    expect(provenance['buildType']).toBe('https://mobyproject.org/buildkit@v1');
    expect(JSON.stringify(provenance['materials'])).toContain('pkg:docker/busybox@latest');
    const warnings = m['buildx.build.warnings'] as { level: number; short: string; detail: string[]; url: string; sourceInfo: { filename: string; data: string }; range: unknown[] }[];
    expect(warnings).toHaveLength(1);
    const [w] = warnings;
    expect(Buffer.from(w?.short ?? '', 'base64').toString()).toBe("FromAsCasing: 'as' and 'FROM' keywords' casing do not match (line 1)");
    expect(w?.level).toBe(1);
    expect(w?.url).toMatch(/^https:\/\/docs\.docker\.com\/go\/dockerfile\/rule\/from-as-casing/);
    expect(Buffer.from(w?.sourceInfo.data ?? '', 'base64').toString()).toContain('FROM busybox as base');
    expect(w?.range).toEqual([{ start: { line: 1 }, end: { line: 1 } }]);

    // Every stderr line is one SolveStatus with BuildKit's field names and encodings.
    const lines = res.stderr.split('\n').filter((l) => l !== '');
    const statuses = lines.map((l) => JSON.parse(l) as Record<string, unknown[]>);
    const logs: Record<number, string> = { 1: '', 2: '' };
    const names = new Set<string>();
    for (const s of statuses) {
      for (const key of Object.keys(s)) expect(['vertexes', 'statuses', 'logs', 'warnings']).toContain(key);
      for (const v of (s['vertexes'] ?? []) as { digest: string; name: string; started?: string; completed?: string }[]) {
        expect(v.digest).toMatch(DIGEST);
        names.add(v.name);
        for (const t of [v.started, v.completed]) if (t !== undefined) expect(t).toMatch(RFC3339);
      }
      for (const l of (s['logs'] ?? []) as { vertex: string; stream: number; data: string; timestamp: string }[]) {
        expect(l.vertex).toMatch(DIGEST);
        expect(l.timestamp).toMatch(RFC3339);
        logs[l.stream] = (logs[l.stream] ?? '') + Buffer.from(l.data, 'base64').toString();
      }
      for (const st of (s['statuses'] ?? []) as { id: string; current: number; timestamp: string }[]) {
        expect(typeof st.id).toBe('string');
        expect(typeof st.current).toBe('number');
        expect(st.timestamp).toMatch(RFC3339);
      }
    }
    expect(logs[1]).toContain('from-the-run-step');
    expect(logs[2]).toContain('to-stderr');
    expect([...names].some((n) => n.includes('RUN echo from-the-run-step'))).toBe(true);
    expect(statuses.some((s) => (s['warnings'] ?? []).length > 0)).toBe(true);
  });

  it('names the image manifest with its platform and config digest for an OCI archive, with a max provenance', async () => {
    const meta = join(env.tmp.path, 'oci.json');
    const res = await runTbuild(['build', ...base(), '--progress', 'plain', '--metadata-file', meta, '-t', 'meta:oci', '-o', `type=oci,dest=${join(env.tmp.path, 'o.tar')}`, ctx], {
      env: { ...process.env, BUILDX_METADATA_PROVENANCE: 'max' },
    });
    expect(res.code, res.stderr).toBe(0);
    const m = await readMeta(meta);
    expect(Object.keys(m)).toEqual(['buildx.build.provenance', 'buildx.build.ref', 'containerimage.config.digest', 'containerimage.descriptor', 'containerimage.digest', 'image.name']);
    expect(m['containerimage.descriptor']).toEqual({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: m['containerimage.digest'], size: expect.any(Number), platform: { architecture: 'amd64', os: 'linux' } });
    expect(m['containerimage.config.digest']).toMatch(DIGEST);
    expect(m['image.name']).toBe('docker.io/library/meta:oci');
    expect(Object.keys(m['buildx.build.provenance'] as object)).toEqual(['builder', 'buildType', 'materials', 'invocation', 'buildConfig', 'metadata']);
  });

  it('writes only the build ref for a local output, without provenance when BUILDX_METADATA_PROVENANCE=disabled', async () => {
    const meta = join(env.tmp.path, 'local.json');
    const res = await runTbuild(['build', ...base(), '--progress', 'none', '--metadata-file', meta, '-o', `type=local,dest=${join(env.tmp.path, 'files')}`, ctx], {
      env: { ...process.env, BUILDX_METADATA_PROVENANCE: 'disabled' },
    });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toBe('');
    expect(Object.keys(await readMeta(meta))).toEqual(['buildx.build.ref']);
  });

  it('brings the same metadata back from a remote builder', async () => {
    const meta = join(env.tmp.path, 'remote.json');
    const res = await runTbuild(['build', '--builder', remote.address, '--progress', 'plain', '--metadata-file', meta, '-t', 'meta:remote', '-o', `type=oci,dest=${join(env.tmp.path, 'r.tar')}`, ctx]);
    expect(res.code, res.stderr).toBe(0);
    const m = await readMeta(meta);
    expect(Object.keys(m)).toEqual(['buildx.build.provenance', 'buildx.build.ref', 'containerimage.config.digest', 'containerimage.descriptor', 'containerimage.digest', 'image.name']);
    expect(m['buildx.build.ref']).toMatch(/^tbuild\/remote\/[0-9a-f]+$/);
    expect(m['containerimage.descriptor']).toMatchObject({ mediaType: 'application/vnd.oci.image.manifest.v1+json', platform: { architecture: 'amd64', os: 'linux' } });
    expect(Object.keys(m['buildx.build.provenance'] as object)).toEqual(['builder', 'buildType', 'materials', 'invocation']);
  });

  it('pushes by digest only with push-by-digest=true, leaving the repository without tags', async () => {
    const h = env.registry.host;
    const meta = join(env.tmp.path, 'pbd.json');
    const res = await runTbuild(['build', ...base(), '--progress', 'plain', '--metadata-file', meta, '-o', `type=registry,name=${h}/pbd/app,push-by-digest=true`, ctx], { env: { ...process.env, BUILDX_NO_DEFAULT_ATTESTATIONS: '1' } });
    expect(res.code, res.stderr).toBe(0);
    const digest = String((await readMeta(meta))['containerimage.digest']);
    expect(digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    const byDigest = await fetch(`http://${h}/v2/pbd/app/manifests/${digest}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    expect(byDigest.status).toBe(200);
    const latest = await fetch(`http://${h}/v2/pbd/app/manifests/latest`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    expect(latest.status).toBe(404);
    const tags = await fetch(`http://${h}/v2/pbd/app/tags/list`);
    const list = tags.status === 200 ? ((await tags.json()) as { tags: string[] | null }).tags ?? [] : [];
    expect(list).toEqual([]);
  });

  it('keeps the image under NAME@DIGEST too with name-canonical=true', async () => {
    const meta = join(env.tmp.path, 'canon.json');
    const res = await runTbuild(['build', ...base(), '--progress', 'plain', '--metadata-file', meta, '-o', 'type=image,name=canon:1,name-canonical=true', ctx]);
    expect(res.code, res.stderr).toBe(0);
    const digest = String((await readMeta(meta))['containerimage.digest']);
    const images = await runTbuild(['images', '--root', join(env.tmp.path, 'root'), '--no-trunc', '--format', '{{.Repository}}:{{.Tag}} {{.Digest}}']);
    expect(images.code, images.stderr).toBe(0);
    // The canonical name lists the image by its digest, beside its tag.
    expect(images.stdout.split('\n').filter((l) => l.startsWith('canon'))).toEqual(['canon:1 <none>', expect.stringContaining(`canon@${digest}`)]);
    const rmi = await runTbuild(['rmi', '--root', join(env.tmp.path, 'root'), `canon@${digest}`]);
    expect(rmi.code, rmi.stderr).toBe(0);
  });

  it('writes an OCI layout or a docker save folder with tar=false', async () => {
    const oci = join(env.tmp.path, 'layout');
    const res = await runTbuild(['build', ...base(), '--progress', 'plain', '-t', 'attrs:v1', '-o', `type=oci,dest=${oci},tar=false`, ctx]);
    expect(res.code, res.stderr).toBe(0);
    expect((await readdir(oci)).sort()).toEqual(['blobs', 'index.json', 'oci-layout']);
    const validate = await run('oci-image-tool', ['validate', '--type', 'image', oci]);
    expect(validate.code, validate.stdout + validate.stderr).toBe(0);
    const docker = join(env.tmp.path, 'saved');
    const saved = await runTbuild(['build', ...base(), '--progress', 'plain', '-t', 'attrs:v1', '-o', `type=docker,dest=${docker},tar=false`, ctx]);
    expect(saved.code, saved.stderr).toBe(0);
    const manifest = JSON.parse(await readFile(join(docker, 'manifest.json'), 'utf8')) as { RepoTags: string[]; Layers: string[] }[];
    expect(manifest[0]?.RepoTags).toEqual(['attrs:v1']);
    for (const layer of manifest[0]?.Layers ?? []) await expect(readFile(join(docker, layer))).resolves.toBeInstanceOf(Buffer);
  });
});
