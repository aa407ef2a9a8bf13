import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedMultiarchBusybox, SEED_TIMEOUT_MS } from '../fixtures/multiarch-busybox.js';
import { useDockerEngine } from '../fixtures/docker-engine.js';
import { useBuildEnvironment } from '../helpers/build-env.js';
import { run, runTbuild } from '../helpers/cli.js';

describe('tbuild tag, push, save, load and inspect', () => {
  const env = useBuildEnvironment();
  const { docker } = useDockerEngine();
  const root = (): string => join(env.tmp.path, 'root');
  const tb = (...args: string[]): ReturnType<typeof runTbuild> => runTbuild([...args, '--root', root()]);
  const dockerNames: string[] = [];
  const ctx = (name: string): string => join(env.tmp.path, name);
  const build = async (dir: string, dockerfile: string, ...flags: string[]): Promise<string> => {
    await mkdir(ctx(dir), { recursive: true });
    await writeFile(join(ctx(dir), 'Dockerfile'), dockerfile);
    const res = await runTbuild(['build', '--root', root(), '--config', env.config, '-q', ...flags, ctx(dir)]);
    expect(res.code, res.stderr).toBe(0);
    return res.stdout.trim();
  };

  beforeAll(async () => {
    await seedMultiarchBusybox(env.registry.host);
  }, SEED_TIMEOUT_MS);

  afterAll(async () => {
    if (dockerNames.length > 0) await docker('rmi', '-f', ...dockerNames);
  });

  it('saves several images into one archive that docker loads and runs', async () => {
    const one = await build('one', 'FROM busybox\nRUN echo first > /said\nCMD ["cat", "/said"]\n', '-t', 'tbuild-saved:one');
    const two = await build('two', 'FROM busybox\nRUN echo second > /said\nCMD ["cat", "/said"]\n', '-t', 'tbuild-saved:two');
    const archive = join(env.tmp.path, 'saved.tar');
    const saved = await tb('save', '-o', archive, 'tbuild-saved:one', 'tbuild-saved:two');
    expect(saved.code, saved.stderr).toBe(0);
    dockerNames.push('tbuild-saved:one', 'tbuild-saved:two');
    const loaded = await docker('load', '-i', archive);
    expect(loaded.code, loaded.stderr).toBe(0);
    expect(loaded.stdout).toContain('Loaded image: tbuild-saved:one');
    expect(loaded.stdout).toContain('Loaded image: tbuild-saved:two');
    // The image keeps its ID: docker names it by the same config digest.
    expect((await docker('image', 'inspect', '--format', '{{.Id}}', 'tbuild-saved:one')).stdout.trim()).toBe(one);
    expect((await docker('image', 'inspect', '--format', '{{.Id}}', 'tbuild-saved:two')).stdout.trim()).toBe(two);
    for (const [name, said] of [['tbuild-saved:one', 'first'], ['tbuild-saved:two', 'second']] as const) {
      const ran = await docker('run', '--rm', '--network', 'none', name);
      expect(ran.code, ran.stderr).toBe(0);
      expect(ran.stdout).toBe(`${said}\n`);
    }
  });

  it('tags an image and pushes it, compressed, with the same image ID', async () => {
    const id = await build('push', 'FROM busybox\nRUN echo pushed > /p\n', '-t', 'to-push:1');
    const ref = `${env.registry.host}/store/pushed:v1`;
    const tagged = await tb('tag', id.slice(7, 19), ref);
    expect(tagged.code, tagged.stderr).toBe(0);
    const pushed = await tb('push', '--config', env.config, '--progress', 'plain', ref);
    expect(pushed.code, pushed.stderr).toBe(0);
    const [, digest] = pushed.stdout.trim().split('@');
    expect(pushed.stdout).toMatch(new RegExp(`^${ref}@sha256:[0-9a-f]{64}\\n$`));
    const raw = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]);
    expect(raw.code, raw.stderr).toBe(0);
    const manifest = JSON.parse(raw.stdout) as { config: { digest: string }; layers: { mediaType: string }[] };
    expect(manifest.config.digest).toBe(id);
    expect(manifest.layers.map((l) => l.mediaType)).toEqual(manifest.layers.map(() => 'application/vnd.oci.image.layer.v1.tar+gzip'));
    const inspected = await run('skopeo', ['inspect', '--tls-verify=false', `docker://${ref}`]);
    expect(inspected.code, inspected.stderr).toBe(0);
    expect((JSON.parse(inspected.stdout) as { Digest: string }).Digest).toBe(digest);
    // skopeo pulls every blob, checked against its digest.
    const copied = await run('skopeo', ['copy', '--src-tls-verify=false', `docker://${ref}`, `oci-archive:${join(env.tmp.path, 'pulled.tar')}`]);
    expect(copied.code, copied.stderr).toBe(0);
  });

  it('pushes an image of several platforms as its index', async () => {
    await mkdir(ctx('multi'), { recursive: true });
    await writeFile(join(ctx('multi'), 'f'), 'multi\n');
    const id = await build('multi', 'FROM busybox-multiarch\nCOPY f /f\n', '--platform', 'linux/amd64,linux/arm64', '-t', 'multi-push:1');
    const ref = `${env.registry.host}/store/multi:1`;
    expect((await tb('tag', 'multi-push:1', ref)).code).toBe(0);
    const pushed = await tb('push', '--config', env.config, '-q', ref);
    expect(pushed.code, pushed.stderr).toBe(0);
    const raw = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]);
    const index = JSON.parse(raw.stdout) as { mediaType: string; manifests: { platform: { architecture: string } }[] };
    expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(index.manifests.map((m) => m.platform.architecture)).toEqual(['amd64', 'arm64']);
    const arm = await run('skopeo', ['inspect', '--tls-verify=false', '--override-arch', 'arm64', `docker://${ref}`]);
    expect(arm.code, arm.stderr).toBe(0);
    expect((JSON.parse(arm.stdout) as { Architecture: string }).Architecture).toBe('arm64');
    // Saved, docker loads the host's platform of it; index.json names the index, by the image ID.
    const archive = join(env.tmp.path, 'multi.tar');
    expect((await tb('save', '-o', archive, 'multi-push:1')).code).toBe(0);
    dockerNames.push('multi-push:1');
    const loaded = await docker('load', '-i', archive);
    expect(loaded.code, loaded.stderr).toBe(0);
    expect((await docker('image', 'inspect', '--format', '{{.Architecture}}', 'multi-push:1')).stdout.trim()).toBe('amd64');
    const reloaded = await runTbuild(['load', '-i', archive, '--root', join(env.tmp.path, 'other-root')]);
    expect(reloaded.code, reloaded.stderr).toBe(0);
    expect(reloaded.stdout).toBe('Loaded image: multi-push:1\n');
    const listed = await runTbuild(['images', '-q', '--no-trunc', '--root', join(env.tmp.path, 'other-root')]);
    expect(listed.stdout).toBe(`${id}\n`);
  });

  it('loads docker save and OCI archives, and inspects what it loaded', async () => {
    const archive = join(env.tmp.path, 'from-docker.tar');
    // The engine pulls busybox from the test's loopback registry (docker takes loopback registries as plain HTTP).
    const pulledRef = `${env.registry.host}/library/busybox:latest`;
    dockerNames.push(pulledRef, 'tbuild-load-probe:1');
    const pulled = await docker('pull', '-q', pulledRef);
    expect(pulled.code, pulled.stderr).toBe(0);
    const dockerId = (await docker('image', 'inspect', '--format', '{{.Id}}', pulledRef)).stdout.trim();
    expect((await docker('tag', pulledRef, 'tbuild-load-probe:1')).code).toBe(0);
    const saved = await docker('save', '-o', archive, 'tbuild-load-probe:1');
    expect(saved.code, saved.stderr).toBe(0);
    const loaded = await tb('load', '-i', archive);
    expect(loaded.code, loaded.stderr).toBe(0);
    expect(loaded.stdout).toBe('Loaded image: tbuild-load-probe:1\n');
    expect((await tb('images', 'tbuild-load-probe')).stdout).toMatch(new RegExp(`^tbuild-load-probe\\s+1\\s+${dockerId.slice(7, 19)}\\s`, 'm'));
    // Compressed, as docker load takes it; anything else is refused as the input's fault.
    expect((await run('gzip', ['-k', archive])).code).toBe(0);
    const gz = await runTbuild(['load', '-q', '-i', `${archive}.gz`, '--root', join(env.tmp.path, 'gz-root')]);
    expect(gz.code, gz.stderr).toBe(0);
    expect((await runTbuild(['images', '-q', '--no-trunc', '--root', join(env.tmp.path, 'gz-root')])).stdout).toBe(`${dockerId}\n`);
    const garbage = await runTbuild(['load', '--root', join(env.tmp.path, 'gz-root')], { input: 'not an archive\n' });
    expect(garbage.code).toBe(2);
    expect(garbage.stderr).toContain('Cannot load the archive');

    const oci = join(env.tmp.path, 'built.oci.tar');
    const built = await runTbuild(['build', '--root', join(env.tmp.path, 'oci-root'), '--config', env.config, '-o', `type=oci,dest=${oci},name=oci-loaded:2`, ctx('one')]);
    expect(built.code, built.stderr).toBe(0);
    const fromOci = await runTbuild(['load', '--root', root()], { input: await readFile(oci) });
    expect(fromOci.code, fromOci.stderr).toBe(0);
    expect(fromOci.stdout).toBe('Loaded image: oci-loaded:2\n');

    const inspected = await tb('inspect', 'oci-loaded:2');
    expect(inspected.code, inspected.stderr).toBe(0);
    const [doc] = JSON.parse(inspected.stdout) as { Id: string; RepoTags: string[]; Os: string; Config: { Cmd: string[] }; Manifest: { layers: unknown[] }; History: { created_by: string }[] }[];
    expect(doc?.RepoTags).toEqual(['oci-loaded:2']);
    expect(doc?.Config.Cmd).toEqual(['cat', '/said']);
    expect(doc?.Manifest.layers).toHaveLength(2);
    expect(doc?.History.map((h) => h.created_by).at(-1)).toContain('CMD ["cat" "/said"]');
    const formatted = await tb('inspect', '--format', '{{.Os}}/{{.Architecture}} {{json .RepoTags}} {{index .Config.Cmd 1}}', doc?.Id.slice(7, 19) ?? '');
    expect(formatted.stdout).toBe('linux/amd64 ["oci-loaded:2"] /said\n');
    // The loaded image goes back out: saved again and run by docker.
    const again = join(env.tmp.path, 'again.tar');
    expect((await tb('save', '-o', again, 'oci-loaded:2')).code).toBe(0);
    dockerNames.push('oci-loaded:2');
    expect((await docker('load', '-i', again)).code).toBe(0);
    expect((await docker('run', '--rm', '--network', 'none', 'oci-loaded:2')).stdout).toBe('first\n');
  });

  it('saves and pushes an image whose layers came from an imported cache and were never unpacked', async () => {
    const dockerfile = 'FROM busybox\nRUN echo from-cache > /said\nCMD ["cat", "/said"]\n';
    const cacheRef = `${env.registry.host}/store/cache:lazy`;
    await build('lazy', dockerfile, '--cache-to', `type=registry,ref=${cacheRef},mode=max`);
    // A fresh state folder takes every step from the registry cache: the store keeps the downloaded blobs only.
    const fresh = join(env.tmp.path, 'lazy-root');
    const res = await runTbuild(['build', '--root', fresh, '--config', env.config, '-q', '--cache-from', `type=registry,ref=${cacheRef}`, '-t', 'lazy-saved:1', ctx('lazy')]);
    expect(res.code, res.stderr).toBe(0);
    const id = res.stdout.trim();
    const archive = join(env.tmp.path, 'lazy.tar');
    const saved = await runTbuild(['save', '--root', fresh, '-o', archive, 'lazy-saved:1']);
    expect(saved.code, saved.stderr).toBe(0);
    dockerNames.push('lazy-saved:1');
    expect((await docker('load', '-i', archive)).code).toBe(0);
    expect((await docker('image', 'inspect', '--format', '{{.Id}}', 'lazy-saved:1')).stdout.trim()).toBe(id);
    expect((await docker('run', '--rm', '--network', 'none', 'lazy-saved:1')).stdout).toBe('from-cache\n');
    const ref = `${env.registry.host}/store/lazy:1`;
    expect((await runTbuild(['tag', '--root', fresh, 'lazy-saved:1', ref])).code).toBe(0);
    const pushed = await runTbuild(['push', '--root', fresh, '--config', env.config, '-q', ref]);
    expect(pushed.code, pushed.stderr).toBe(0);
    const raw = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]);
    expect((JSON.parse(raw.stdout) as { config: { digest: string } }).config.digest).toBe(id);
  });
});
