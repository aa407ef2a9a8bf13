import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { seedMultiarchBusybox, SEED_TIMEOUT_MS } from '../fixtures/multiarch-busybox.js';
import { useBuildEnvironment, useRemoteBuilder } from '../helpers/build-env.js';
import { run, runTbuild } from '../helpers/cli.js';
import { useEmulators } from '../helpers/emulation.js';

const UNAME = `FROM busybox-multiarch
RUN uname -m > /machine
`;

// The builder stage runs on the build platform once and makes a file for every target; each platform copies its own.
const CROSS = `FROM --platform=$BUILDPLATFORM busybox-multiarch AS build
RUN mkdir /out && for a in amd64 arm64; do echo "built for $a" > /out/$a; done
FROM busybox-multiarch
ARG TARGETARCH
COPY --from=build /out/$TARGETARCH /built
`;

// arm64's step fails at once; amd64's would wait a minute, unless the failure cancels it.
const ONE_FAILS = `FROM busybox-multiarch
ARG TARGETARCH
RUN if [ "$TARGETARCH" = arm64 ]; then echo "arm64 breaks"; exit 3; fi; echo waiting; sleep 60
`;

interface IndexManifest {
  readonly digest: string;
  readonly mediaType: string;
  readonly platform?: { readonly os: string; readonly architecture: string; readonly variant?: string };
}

describe('building several platforms into one image index', () => {
  const env = useBuildEnvironment();
  const builder = useRemoteBuilder(env);
  useEmulators();
  const flags = (): string[] => ['--root', join(env.tmp.path, 'root'), '--config', env.config, '--progress', 'plain'];
  const dirs: Record<string, string> = {};

  beforeAll(async () => {
    await seedMultiarchBusybox(env.registry.host);
    for (const [name, text] of Object.entries({ uname: UNAME, cross: CROSS, oneFails: ONE_FAILS })) {
      const dir = join(env.tmp.path, name);
      await mkdir(dir);
      await writeFile(join(dir, 'Dockerfile'), text);
      dirs[name] = dir;
    }
  }, SEED_TIMEOUT_MS);

  const dir = (name: string): string => dirs[name] ?? '';

  it('pushes one index listing a manifest per platform, each running its own architecture', async () => {
    const ref = `${env.registry.host}/multi/uname:1`;
    const res = await runTbuild(['build', ...flags(), '--platform', 'linux/amd64,linux/arm64', '-t', ref, '--push', dir('uname')], { env: { BUILDX_NO_DEFAULT_ATTESTATIONS: '1' } });
    expect(res.code, res.stderr).toBe(0);
    // Step names carry the platform, as buildx shows them.
    expect(res.stderr).toContain('[linux/arm64 2/2] RUN uname -m > /machine');
    expect(res.stderr).toContain('[linux/amd64 2/2] RUN uname -m > /machine');
    const raw = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]);
    expect(raw.code, raw.stderr).toBe(0);
    const index = JSON.parse(raw.stdout) as { mediaType: string; manifests: IndexManifest[] };
    expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(index.manifests.map((m) => m.platform)).toEqual([
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64' },
    ]);
    const out = join(env.tmp.path, 'pulled-arm64');
    const copy = await run('skopeo', ['copy', '--quiet', '--override-arch', 'arm64', '--src-tls-verify=false', `docker://${ref}`, `oci:${out}:x`]);
    expect(copy.code, copy.stderr).toBe(0);
    const unpack = await run('umoci', ['unpack', '--image', `${out}:x`, join(out, 'bundle')]);
    expect(unpack.code, unpack.stderr).toBe(0);
    expect(await readFile(join(out, 'bundle', 'rootfs', 'machine'), 'utf8')).toBe('aarch64\n');
  });

  it("fails on one platform's failure, naming it, and cancels the other platforms' running steps", async () => {
    const res = await runTbuild(['build', ...flags(), '--platform', 'linux/amd64,linux/arm64', '-o', `type=oci,dest=${join(env.tmp.path, 'never.tar')}`, dir('oneFails')]);
    expect(res.code, res.stderr).toBe(1);
    const lines = res.stderr.split('\n');
    const stepId = (platform: string): string | undefined => lines.find((l) => l.includes(`[${platform} 2/2] RUN if`))?.split(' ')[0];
    const amd64 = stepId('linux/amd64');
    const arm64 = stepId('linux/arm64');
    expect(arm64 !== undefined && lines.some((l) => l.startsWith(`${arm64} ERROR`) && l.includes('exit code: 3')), res.stderr).toBe(true);
    // The amd64 step was running its minute-long sleep when arm64 failed: it ends cancelled, not done.
    expect(amd64 !== undefined && lines.includes(`${amd64} CANCELED`), res.stderr).toBe(true);
    expect(lines.some((l) => l.startsWith(`${amd64} DONE`))).toBe(false);
    expect(res.stderr).toMatch(/ERROR: .*\[linux\/arm64 2\/2\] RUN/);
  });

  it('writes an OCI archive whose index lists every platform, each of which umoci unpacks', async () => {
    const archive = join(env.tmp.path, 'multi.tar');
    const meta = join(env.tmp.path, 'multi-meta.json');
    const res = await runTbuild(['build', ...flags(), '--platform', 'linux/amd64,linux/arm64', '--metadata-file', meta, '-o', `type=oci,dest=${archive}`, dir('uname')]);
    expect(res.code, res.stderr).toBe(0);
    // As buildx writes it: the index (no config digest) and each platform's provenance under its own key.
    const metadata = JSON.parse(await readFile(meta, 'utf8')) as Record<string, unknown>;
    expect(Object.keys(metadata)).toEqual(['buildx.build.provenance/linux/amd64', 'buildx.build.provenance/linux/arm64', 'buildx.build.ref', 'containerimage.descriptor', 'containerimage.digest']);
    expect(metadata['containerimage.descriptor']).toMatchObject({ mediaType: 'application/vnd.oci.image.index.v1+json', digest: metadata['containerimage.digest'] });
    const layout = join(env.tmp.path, 'multi-layout');
    await mkdir(layout);
    expect((await run('tar', ['-xf', archive, '-C', layout])).code).toBe(0);
    const top = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: IndexManifest[] };
    const [root] = top.manifests;
    expect(root?.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(root?.digest).toBe(metadata['containerimage.digest']);
    const nested = JSON.parse(await readFile(join(layout, 'blobs', 'sha256', (root?.digest ?? '').slice(7)), 'utf8')) as { manifests: IndexManifest[] };
    expect(nested.manifests.map((m) => m.platform?.architecture)).toEqual(['amd64', 'arm64']);
    // umoci unpacks a reference naming one manifest: name each platform's manifest in index.json.
    const machines: string[] = [];
    for (const m of nested.manifests) {
      const tag = m.platform?.architecture ?? '';
      const named = { schemaVersion: 2, manifests: [{ ...m, annotations: { 'org.opencontainers.image.ref.name': tag } }] };
      await writeFile(join(layout, 'index.json'), JSON.stringify(named));
      const bundle = join(env.tmp.path, `multi-bundle-${tag}`);
      const unpack = await run('umoci', ['unpack', '--image', `${layout}:${tag}`, bundle]);
      expect(unpack.code, unpack.stderr).toBe(0);
      machines.push(await readFile(join(bundle, 'rootfs', 'machine'), 'utf8'));
    }
    expect(machines).toEqual(['x86_64\n', 'aarch64\n']);
  });

  it('runs a stage on the build platform once for every target and is cached on every platform the second time', async () => {
    const out = join(env.tmp.path, 'cross-out');
    const args = ['build', ...flags(), '--platform', 'linux/amd64,linux/arm64', '-o', `type=local,dest=${out}`, dir('cross')];
    const first = await runTbuild(args);
    expect(first.code, first.stderr).toBe(0);
    // The builder stage is the same step for both platforms: it ran once (one resource report), the other platform
    // found it done.
    const lines = first.stderr.split('\n');
    const ids = new Set(lines.flatMap((l) => /^(#\d+) \[linux\/amd64 build 2\/2\] RUN mkdir/.exec(l)?.slice(1) ?? []));
    expect(ids.size).toBe(1);
    const [id] = ids;
    expect(lines.filter((l) => l.startsWith(`${id ?? ''} memory peak`))).toHaveLength(1);
    expect(lines.filter((l) => l === `${id ?? ''} CACHED`)).toHaveLength(1);
    expect((await readdir(out)).sort()).toEqual(['linux_amd64', 'linux_arm64']);
    expect(await readFile(join(out, 'linux_amd64', 'built'), 'utf8')).toBe('built for amd64\n');
    expect(await readFile(join(out, 'linux_arm64', 'built'), 'utf8')).toBe('built for arm64\n');
    const second = await runTbuild(args);
    expect(second.code, second.stderr).toBe(0);
    const steps = second.stderr.split('\n').filter((l) => /^#\d+ \[linux\//.test(l));
    expect(steps.length).toBeGreaterThan(0);
    const stepIds = new Set(steps.map((l) => l.split(' ')[0]));
    const cached = new Set(second.stderr.split('\n').filter((l) => / CACHED$/.test(l)).map((l) => l.split(' ')[0]));
    expect([...stepIds].filter((id) => !cached.has(id))).toEqual([]);
  });

  it('exports one cache holding every platform, which a new store builds from on every platform', async () => {
    const cache = join(env.tmp.path, 'multi-cache');
    const out = join(env.tmp.path, 'cache-out');
    const platforms = ['--platform', 'linux/amd64,linux/arm64', '-o', `type=local,dest=${out}`];
    const exported = await runTbuild(['build', ...flags(), ...platforms, '--cache-to', `type=local,dest=${cache},mode=max`, dir('uname')]);
    expect(exported.code, exported.stderr).toBe(0);
    const fresh = ['--root', join(env.tmp.path, 'fresh-root'), '--config', env.config, '--progress', 'plain'];
    const imported = await runTbuild(['build', ...fresh, ...platforms, '--cache-from', `type=local,src=${cache}`, dir('uname')]);
    expect(imported.code, imported.stderr).toBe(0);
    const lines = imported.stderr.split('\n');
    for (const platform of ['linux/amd64', 'linux/arm64']) {
      const id = lines.find((l) => l.includes(`[${platform} 2/2] RUN uname -m`))?.split(' ')[0];
      expect(id, imported.stderr).toBeDefined();
      expect(lines, imported.stderr).toContain(`${id ?? ''} CACHED`);
    }
    expect(await readFile(join(out, 'linux_arm64', 'machine'), 'utf8')).toBe('aarch64\n');
  });

  it('writes one folder per platform in a tar output', async () => {
    const tar = join(env.tmp.path, 'multi-rootfs.tar');
    const res = await runTbuild(['build', ...flags(), '--platform', 'linux/amd64,linux/arm/v7', '-o', `type=tar,dest=${tar}`, dir('uname')]);
    expect(res.code, res.stderr).toBe(0);
    const list = await run('tar', ['-tf', tar]);
    const names = list.stdout.split('\n');
    expect(names).toContain('linux_amd64/machine');
    expect(names).toContain('linux_arm_v7/machine');
    const arm = await run('tar', ['-xOf', tar, 'linux_arm_v7/machine']);
    expect(arm.stdout).toBe('armv7l\n');
  });

  it('builds several platforms through tbuild serve', async () => {
    const ref = `${env.registry.host}/multi/remote:1`;
    const out = join(env.tmp.path, 'remote-out');
    const remote = ['build', '--builder', builder.address, '--progress', 'plain', '--platform', 'linux/amd64,linux/arm64'];
    const pushed = await runTbuild([...remote, '-t', ref, '--push', dir('uname')], { env: { BUILDX_NO_DEFAULT_ATTESTATIONS: '1' } });
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(pushed.stderr).toContain('[linux/arm64 2/2] RUN uname -m > /machine');
    const raw = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]);
    expect(raw.code, raw.stderr).toBe(0);
    const index = JSON.parse(raw.stdout) as { manifests: IndexManifest[] };
    expect(index.manifests.map((m) => m.platform?.architecture)).toEqual(['amd64', 'arm64']);
    const local = await runTbuild([...remote, '-o', `type=local,dest=${out}`, dir('uname')]);
    expect(local.code, local.stderr).toBe(0);
    expect(await readFile(join(out, 'linux_amd64', 'machine'), 'utf8')).toBe('x86_64\n');
    expect(await readFile(join(out, 'linux_arm64', 'machine'), 'utf8')).toBe('aarch64\n');
  });

  it('keeps the image index in the local image store, with every platform\'s layers kept alive', async () => {
    const root = join(env.tmp.path, 'store-root');
    const own = ['--root', root, '--config', env.config, '--progress', 'plain'];
    const res = await runTbuild(['build', ...own, '--platform', 'linux/amd64,linux/arm64', '-t', 'multi-store:1', dir('uname')]);
    expect(res.code, res.stderr).toBe(0);
    const images = await runTbuild(['images', '--root', root]);
    expect(images.code, images.stderr).toBe(0);
    const row = images.stdout.split('\n').find((l) => l.includes('multi-store'));
    expect(row, images.stdout).toMatch(/multi-store\s+1\s/);
    // Collecting everything that is not an image keeps each platform's manifest and layers (the listing reads both).
    const prune = await runTbuild(['prune', '--root', root, '--all', '--force']);
    expect(prune.code, prune.stderr).toBe(0);
    const again = await runTbuild(['images', '--root', root]);
    expect(again.code, again.stderr).toBe(0);
    const cells = (line: string | undefined): string[] => (line ?? '').trim().split(/\s+/);
    const kept = cells(again.stdout.split('\n').find((l) => l.includes('multi-store')));
    // The same image ID and size (the layers of both platforms); only the age differs.
    expect([kept[2], kept.at(-1)]).toEqual([cells(row)[2], cells(row).at(-1)]);
  });

  it('refuses a docker output as BuildKit does', async () => {
    const res = await runTbuild(['build', ...flags(), '--platform', 'linux/amd64,linux/arm64', '-o', `type=docker,dest=${join(env.tmp.path, 'd.tar')}`, dir('uname')]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('docker exporter does not currently support exporting manifest lists');
  });
});
