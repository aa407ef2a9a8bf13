import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, run, runTbuild, type TempDir } from '../helpers/cli.js';
import type { TestRegistry } from '../fixtures/registry.js';
import { useBuildEnvironment } from '../helpers/build-env.js';

interface SkopeoInspect {
  readonly Digest: string;
  readonly Labels: Record<string, string> | null;
  readonly Layers: string[];
}

// A pushed image gets buildx's default provenance (an image index with an attestation manifest of its own blobs): the
// tests that look at the bare manifest or count uploaded blobs turn it off, as buildx users do.
const NO_ATTESTATIONS = { env: { BUILDX_NO_DEFAULT_ATTESTATIONS: '1' } };

describe('tbuild build --push and type=image outputs', () => {
  const env = useBuildEnvironment();
  let registry: TestRegistry;
  let tmp: TempDir;
  let root: string;
  let config: string;
  const base = (): string[] => ['--root', root, '--config', config, '--progress', 'plain'];
  const hello = join(REPO_ROOT, 'examples/hello');

  beforeAll(async () => {
    ({ registry, tmp, config } = env);
    root = join(tmp.path, 'root');
  });


  it('pushes every name of an image output, tags of one repository together and the others by mount', async () => {
    const h = registry.host;
    const meta = join(tmp.path, 'meta.json');
    const output = `type=image,name=${h}/team/hello:v1,name=${h}/team/hello:v2,name=${h}/other/hello:v1,push=true`;
    const res = await runTbuild(['build', ...base(), '--metadata-file', meta, '--output', output, hello]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toContain(`pushing ${h}/team/hello:v1, :v2`);
    const digest = (JSON.parse(await readFile(meta, 'utf8')) as Record<string, string>)['containerimage.digest'];
    for (const ref of ['team/hello:v1', 'team/hello:v2', 'other/hello:v1']) {
      const inspect = await run('skopeo', ['inspect', '--tls-verify=false', `docker://${h}/${ref}`]);
      expect(inspect.code, inspect.stderr).toBe(0);
      const info = JSON.parse(inspect.stdout) as SkopeoInspect;
      expect(info.Digest).toBe(digest);
      expect(info.Labels?.['org.opencontainers.image.title']).toBe('hello');
    }
  });

  it('remembers where it pushed blobs, so a later build mounts them into another repository instead of uploading', async () => {
    const h = registry.host;
    // A root of its own: blobs pushed by the other tests of this file would be mounted already.
    const own = ['--root', join(tmp.path, 'root-mounts'), '--config', config, '--progress', 'plain'];
    const ctx = join(tmp.path, 'mount-ctx');
    await mkdir(ctx, { recursive: true });
    await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo only-here > /only-here\n');
    const first = await runTbuild(['build', ...own, '-t', `${h}/mount-a/hello:v1`, '--push', ctx], NO_ATTESTATIONS);
    expect(first.code, first.stderr).toBe(0);
    const uploaded = [...first.stderr.matchAll(/ pushing (sha256:[0-9a-f]{64}) .* done$/gm)].map((m) => m[1]);
    expect(uploaded.length).toBeGreaterThan(0);
    // Another process: only the store's database knows where the first one pushed.
    const second = await runTbuild(['build', ...own, '-t', `${h}/mount-b/hello:v1`, '--push', ctx], NO_ATTESTATIONS);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).not.toMatch(/ pushing sha256:/);
    const mounted = [...second.stderr.matchAll(/ mounted (sha256:[0-9a-f]{64}) .* done$/gm)].map((m) => m[1]);
    expect(mounted.sort()).toEqual([...uploaded].sort());
    const inspect = await run('skopeo', ['inspect', '--tls-verify=false', `docker://${h}/mount-b/hello:v1`]);
    expect(inspect.code, inspect.stderr).toBe(0);
  });

  it('pushes an image stored with rewrite-timestamp=true as it was stored: its config and layers, compressed', async () => {
    const h = registry.host;
    const ctx = join(tmp.path, 'rewrite-ctx');
    await mkdir(ctx, { recursive: true });
    await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo made-now > /made-now\n');
    const epoch = { env: { ...NO_ATTESTATIONS.env, SOURCE_DATE_EPOCH: '1700000000' } };
    const built = await runTbuild(['build', ...base(), '-o', `type=image,name=${h}/rewrite/hello:v1,rewrite-timestamp=true`, ctx], epoch);
    expect(built.code, built.stderr).toBe(0);
    const id = /^Image (sha256:[0-9a-f]{64})/m.exec(built.stderr)?.[1];
    expect(id).toMatch(/^sha256:/);
    const pushed = await runTbuild(['push', '--root', root, '--config', config, `${h}/rewrite/hello:v1`], epoch);
    expect(pushed.code, pushed.stderr).toBe(0);
    const res = await fetch(`${registry.url}/v2/rewrite/hello/manifests/v1`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    const manifest = (await res.json()) as { config: { digest: string }; layers: { mediaType: string }[] };
    expect(manifest.config.digest).toBe(id);
    expect(manifest.layers.map((l) => l.mediaType)).toEqual(manifest.layers.map(() => 'application/vnd.oci.image.layer.v1.tar+gzip'));
    // skopeo checks each layer against the config's diff IDs as it copies.
    const copied = await run('skopeo', ['copy', '--src-tls-verify=false', `docker://${h}/rewrite/hello:v1`, `oci:${join(tmp.path, 'rewrite-oci')}:v1`]);
    expect(copied.code, copied.stderr).toBe(0);
  });

  it('pulls back with skopeo copy: the config and the rootfs match the local export', async () => {
    const h = registry.host;
    const res = await runTbuild(['build', ...base(), '-t', `${h}/copy/hello:v1`, '--push', '--output', `type=oci,dest=${join(tmp.path, 'local.tar')}`, hello]);
    expect(res.code, res.stderr).toBe(0);
    const copied = join(tmp.path, 'copied');
    const copy = await run('skopeo', ['copy', '--src-tls-verify=false', `docker://${h}/copy/hello:v1`, `oci:${copied}:v1`]);
    expect(copy.code, copy.stderr).toBe(0);
    const local = await run('skopeo', ['inspect', '--config', `oci-archive:${join(tmp.path, 'local.tar')}`]);
    const remote = await run('skopeo', ['inspect', '--config', `oci:${copied}:v1`]);
    expect(remote.code, remote.stderr).toBe(0);
    expect(JSON.parse(remote.stdout)).toEqual(JSON.parse(local.stdout));
    const bundle = join(tmp.path, 'bundle');
    const unpack = await run('umoci', ['unpack', '--rootless', '--image', `${copied}:v1`, bundle]);
    expect(unpack.code, unpack.stderr).toBe(0);
    expect(await readFile(join(bundle, 'rootfs/app/greeting.txt'), 'utf8')).toBe('hello from tbuild\n');
  });

  it('leaves the local store intact when a push fails, and builds from it again', async () => {
    const dead = '127.0.0.1:9';
    const res = await runTbuild(['build', ...base(), '-t', `${dead}/x/hello:v1`, '--push', hello]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain(`cannot reach registry "${dead}"`);
    const images = await runTbuild(['images', '--root', root]);
    expect(images.stdout).toContain(`${dead}/x/hello`);
    const again = await runTbuild(['build', ...base(), '-t', 'hello:after-failure', '--output', `type=oci,dest=${join(tmp.path, 'after.tar')}`, hello]);
    expect(again.code, again.stderr).toBe(0);
    const inspect = await run('skopeo', ['inspect', `oci-archive:${join(tmp.path, 'after.tar')}`]);
    expect(inspect.code, inspect.stderr).toBe(0);
  });

  it('sets annotations, labels, author and created in the pushed image', async () => {
    const h = registry.host;
    const ctx = join(tmp.path, 'annotated');
    await mkdir(ctx, { recursive: true });
    await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nMAINTAINER Jane <jane@example.com>\nLABEL team=build\nRUN echo hi > /hi\n');
    const output = `type=image,name=${h}/annotated/img:v1,push=true,annotation.org.example.key=value,annotation-manifest.org.example.m=1`;
    const res = await runTbuild(['build', ...base(), '--output', output, ctx], NO_ATTESTATIONS);
    expect(res.code, res.stderr).toBe(0);
    const raw = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${h}/annotated/img:v1`]);
    const manifest = JSON.parse(raw.stdout) as { annotations?: Record<string, string> };
    expect(manifest.annotations).toEqual({ 'org.example.key': 'value', 'org.example.m': '1' });
    const cfg = await run('skopeo', ['inspect', '--config', '--tls-verify=false', `docker://${h}/annotated/img:v1`]);
    const image = JSON.parse(cfg.stdout) as { author?: string; created?: string; config: { Labels?: Record<string, string> } };
    expect(image.author).toBe('Jane <jane@example.com>');
    expect(image.config.Labels).toEqual({ team: 'build' });
    expect(Date.now() - Date.parse(image.created ?? '')).toBeLessThan(10 * 60_000);
  });

  it('sets --label over the Dockerfile LABELs and --annotation on the manifest, keeping -o annotations', async () => {
    const h = registry.host;
    const ctx = join(tmp.path, 'flagged');
    await mkdir(ctx, { recursive: true });
    await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nLABEL team=build tier=base\nRUN echo hi > /hi\n');
    const res = await runTbuild([
      'build', ...base(), '--label', 'tier=app', '--label', 'org.example.ci=yes', '--annotation', 'org.example.flag=1',
      '--output', `type=image,name=${h}/flagged/img:v1,push=true,annotation.org.example.own=2`, ctx,
    ], NO_ATTESTATIONS);
    expect(res.code, res.stderr).toBe(0);
    const raw = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${h}/flagged/img:v1`]);
    expect((JSON.parse(raw.stdout) as { annotations?: Record<string, string> }).annotations).toEqual({ 'org.example.flag': '1', 'org.example.own': '2' });
    const cfg = await run('skopeo', ['inspect', '--config', '--tls-verify=false', `docker://${h}/flagged/img:v1`]);
    expect((JSON.parse(cfg.stdout) as { config: { Labels?: Record<string, string> } }).config.Labels).toEqual({ team: 'build', tier: 'app', 'org.example.ci': 'yes' });
  });
});
