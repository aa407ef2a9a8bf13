import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, REPO_ROOT, runTbuild, writeMirrorConfig, type CliResult, type TempDir } from '../helpers/cli.js';
import { seedBusybox, startRegistry, type TestRegistry } from '../fixtures/registry.js';
import { expectAllCached, plainSteps } from '../helpers/plain-steps.js';

interface Built {
  readonly res: CliResult;
  readonly digest: string | undefined;
}

describe('build cache that travels: --cache-to / --cache-from', () => {
  let registry: TestRegistry;
  let tmp: TempDir;
  let config: string;
  let ctx: string;
  let roots = 0;

  // The compared digests are the pushed images': buildx's default provenance, dated per build, is turned off.
  const build = async (args: readonly string[], context = ctx, env: NodeJS.ProcessEnv = { SOURCE_DATE_EPOCH: '1700000000', BUILDX_NO_DEFAULT_ATTESTATIONS: '1' }): Promise<Built> => {
    const root = join(tmp.path, `root-${roots++}`);
    const meta = join(tmp.path, `meta-${roots}.json`);
    // A fixed epoch makes the image config's times repeatable even for steps that run again.
    const res = await runTbuild(['build', '--root', root, '--config', config, '--progress', 'plain', '--metadata-file', meta, ...args, context], { env });
    const digest = res.code === 0 ? (JSON.parse(await readFile(meta, 'utf8')) as Record<string, string>)['containerimage.digest'] : undefined;
    return { res, digest };
  };

  // Pushed, so the compared digest is the registry manifest's (the local image store keeps layers uncompressed).
  const pushed = (name: string, n: number): string[] => ['-t', `${registry.host}/test/${name}:v${n}`, '--push'];

  beforeAll(async () => {
    registry = await startRegistry();
    await seedBusybox(registry.host);
    tmp = await makeTempDir();
    config = await writeMirrorConfig(tmp.path, registry.host);
    ctx = join(tmp.path, 'ctx');
    await cp(join(REPO_ROOT, 'examples/hello'), ctx, { recursive: true });
  });

  afterAll(async () => {
    await tmp?.[Symbol.asyncDispose]();
    await registry?.stop();
  });

  it('exports mode=max to a registry and a fresh root rebuilds the same image without running anything', async () => {
    const ref = `${registry.host}/cache/hello:max`;
    // No SOURCE_DATE_EPOCH: each layer's creation time travels with the cache, so the history dates match too.
    const first = await build([...pushed('max', 1), '--cache-to', `type=registry,ref=${ref},mode=max`], ctx, { BUILDX_NO_DEFAULT_ATTESTATIONS: '1' });
    expect(first.res.code, first.res.stderr).toBe(0);
    const second = await build([...pushed('max', 2), '--cache-from', `type=registry,ref=${ref}`], ctx, { BUILDX_NO_DEFAULT_ATTESTATIONS: '1' });
    expectAllCached(second.res);
    expect(second.digest).toBe(first.digest);
  });

  it('exports as an image manifest artifact and imports it by the short form', async () => {
    const ref = `${registry.host}/cache/hello:manifest`;
    const first = await build([...pushed('manifest', 1), '--cache-to', `type=registry,ref=${ref},mode=max,image-manifest=true`]);
    expect(first.res.code, first.res.stderr).toBe(0);
    const second = await build([...pushed('manifest', 2), '--cache-from', ref]);
    expectAllCached(second.res);
    expect(second.digest).toBe(first.digest);
  });

  it('exports to an OCI layout folder with type=local and imports it with type=local', async () => {
    const dir = join(tmp.path, 'cache-local');
    const first = await build([...pushed('local', 1), '--cache-to', `type=local,dest=${dir},mode=max`]);
    expect(first.res.code, first.res.stderr).toBe(0);
    const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    expect(index.manifests).toHaveLength(1);
    const second = await build([...pushed('local', 2), '--cache-from', `type=local,src=${dir}`]);
    expectAllCached(second.res);
    expect(second.digest).toBe(first.digest);
  });

  it('exports with Docker media types (oci-mediatypes=false) as a manifest list, and imports it', async () => {
    const ref = `${registry.host}/cache/hello:docker`;
    const first = await build([...pushed('docker', 1), '--cache-to', `type=registry,ref=${ref},mode=max,oci-mediatypes=false`]);
    expect(first.res.code, first.res.stderr).toBe(0);
    const res = await fetch(`http://${registry.host}/v2/cache/hello/manifests/docker`, { headers: { accept: 'application/vnd.docker.distribution.manifest.list.v2+json' } });
    const doc = (await res.json()) as { mediaType: string; manifests: { mediaType: string }[] };
    expect(doc.mediaType).toBe('application/vnd.docker.distribution.manifest.list.v2+json');
    expect(doc.manifests.map((m) => m.mediaType)).toContain('application/vnd.docker.image.rootfs.diff.tar.gzip');
    const second = await build([...pushed('docker', 2), '--cache-from', ref]);
    expectAllCached(second.res);
    expect(second.digest).toBe(first.digest);
  });

  it('fails the build when the cache cannot be exported, and only warns with ignore-error=true', async () => {
    // Nothing listens on port 1 of the loopback.
    const failed = await build(['--cache-to', 'type=registry,ref=127.0.0.1:1/cache/hello:gone']);
    expect(failed.res.code).not.toBe(0);
    const ignored = await build(['--cache-to', 'type=registry,ref=127.0.0.1:1/cache/hello:gone,ignore-error=true']);
    expect(ignored.res.code, ignored.res.stderr).toBe(0);
    expect(ignored.res.stderr).toMatch(/Ignoring the failed cache export to registry "127\.0\.0\.1:1\/cache\/hello:gone"/);
  });

  it('puts the cache into the pushed image config with type=inline', async () => {
    const first = await build(['-t', `${registry.host}/test/inline:v1`, '--push', '--cache-to', 'type=inline']);
    expect(first.res.code, first.res.stderr).toBe(0);
    const second = await build(['-t', `${registry.host}/test/inline:v2`, '--push', '--cache-to', 'type=inline', '--cache-from', `${registry.host}/test/inline:v1`]);
    expectAllCached(second.res);
    expect(second.digest).toBe(first.digest);
  });

  it('lists the rewritten layers in the inline cache of an image pushed with rewrite-timestamp=true', async () => {
    const output = (n: number): string[] => ['--output', `type=registry,name=${registry.host}/test/inline-rewritten:v${n},rewrite-timestamp=true`];
    const first = await build([...output(1), '--cache-to', 'type=inline']);
    expect(first.res.code, first.res.stderr).toBe(0);
    const second = await build([...output(2), '--cache-to', 'type=inline', '--cache-from', `${registry.host}/test/inline-rewritten:v1`]);
    expectAllCached(second.res);
    expect(second.digest).toBe(first.digest);
  });

  it('takes --build-arg BUILDKIT_INLINE_CACHE=1 as docker build users write it', async () => {
    const first = await build(['-t', `${registry.host}/test/inline-arg:v1`, '--push', '--build-arg', 'BUILDKIT_INLINE_CACHE=1']);
    expect(first.res.code, first.res.stderr).toBe(0);
    const second = await build(['-t', `${registry.host}/test/inline-arg:v2`, '--push', '--build-arg', 'BUILDKIT_INLINE_CACHE=1', '--cache-from', `${registry.host}/test/inline-arg:v1`]);
    expectAllCached(second.res);
    expect(second.digest).toBe(first.digest);
  });

  it('reruns only the steps that depend on a changed file', async () => {
    const ref = `${registry.host}/cache/hello:change`;
    const first = await build(['--cache-to', `type=registry,ref=${ref},mode=max`]);
    expect(first.res.code, first.res.stderr).toBe(0);
    const changed = join(tmp.path, 'ctx-changed');
    await cp(ctx, changed, { recursive: true });
    await writeFile(join(changed, 'data/two.txt'), 'changed\n');
    const second = await build(['--cache-from', ref], changed);
    expect(second.res.code, second.res.stderr).toBe(0);
    const byName = new Map(plainSteps(second.res.stderr).map((s) => [s.name.split(' ').slice(1, 3).join(' '), s.cached]));
    expect(byName.get('WORKDIR /app')).toBe(true);
    expect(byName.get('COPY greet.sh')).toBe(true);
    expect(byName.get('COPY data/')).toBe(false);
    expect(byName.get('RUN chmod')).toBe(false);
  });

  it('ignores a tampered cache blob with a warning and runs the step instead when its files are needed', async () => {
    const dir = join(tmp.path, 'cache-tampered');
    const first = await build(['--cache-to', `type=local,dest=${dir},mode=max`]);
    expect(first.res.code, first.res.stderr).toBe(0);
    const blob = (d: string): string => join(dir, 'blobs/sha256', d.slice('sha256:'.length));
    const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    // An image manifest by default, whose config is the cache config.
    const doc = JSON.parse(await readFile(blob(index.manifests[0]?.digest ?? ''), 'utf8')) as { config: { mediaType: string; digest: string } };
    expect(doc.config.mediaType).toBe('application/vnd.tbuild.cache.config.v1+json');
    const configDigest = doc.config.digest;
    const cacheConfig = JSON.parse(await readFile(blob(configDigest), 'utf8')) as {
      layers: { digest: string }[];
      records: { layer: number | null; parent: number[] }[];
    };
    // The longest chain is the final RUN's result: corrupt its own layer.
    const top = [...cacheConfig.records].sort((a, b) => b.parent.length - a.parent.length)[0];
    const victim = cacheConfig.layers[top?.layer ?? -1]?.digest ?? '';
    const bytes = await readFile(blob(victim));
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0xff;
    await writeFile(blob(victim), bytes);

    // Imports are lazy: only an output that needs the files downloads (and checks) the layer.
    const out = join(tmp.path, 'tampered-out');
    const second = await build(['--cache-from', `type=local,src=${dir}`, '-o', `type=local,dest=${out}`]);
    expect(second.res.code, second.res.stderr).toBe(0);
    expect(second.res.stderr).toMatch(/Ignoring cache record .*digest/);
    const list = plainSteps(second.res.stderr);
    expect(list.find((s) => s.name.includes('RUN echo'))?.ran).toBe(true);
    expect(list.find((s) => s.name.includes('RUN chmod'))).toMatchObject({ cached: true, ran: false });
    expect(await readFile(join(out, 'etc/group'), 'utf8')).toContain('hello:x:1001:');
  });

  it('warns about an unparsable cache and builds without it', async () => {
    const dir = join(tmp.path, 'cache-garbage');
    await cp(join(tmp.path, 'cache-local'), dir, { recursive: true });
    await writeFile(join(dir, 'index.json'), '{"manifests": "nope"}');
    const res = await build(['--cache-from', `type=local,src=${dir}`]);
    expect(res.res.code, res.res.stderr).toBe(0);
    expect(res.res.stderr).toContain('Ignoring cache');
  });
});
