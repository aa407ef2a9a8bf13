import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { MEDIA_TYPES, type ImageIndex, type ImageManifest } from '../../base/oci.js';
import { useDockerEngine } from '../fixtures/docker-engine.js';
import { useBuildEnvironment, useRemoteBuilder } from '../helpers/build-env.js';
import { run, runTbuild } from '../helpers/cli.js';

interface MediaTypes {
  readonly manifest: string;
  readonly config: string;
  readonly layers: readonly string[];
}

const NO_ATTESTATIONS = { env: { BUILDX_NO_DEFAULT_ATTESTATIONS: '1' } };
// What Docker 20.10 pushes for FROM busybox + RUN (its default media types): a Docker manifest, config and gzip layers.
const DOCKER_IMAGE: MediaTypes = { manifest: MEDIA_TYPES.dockerManifest, config: MEDIA_TYPES.dockerConfig, layers: [MEDIA_TYPES.dockerLayerGzip, MEDIA_TYPES.dockerLayerGzip] };

describe('oci-mediatypes=false: images with Docker media types', () => {
  const env = useBuildEnvironment();
  const remote = useRemoteBuilder(env);
  const engine = useDockerEngine();
  let ctx: string;
  const base = (): string[] => ['--root', join(env.tmp.path, 'root'), '--config', env.config, '--progress', 'plain'];
  const raw = async (ref: string): Promise<string> => {
    const res = await run('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${env.registry.host}/${ref}`]);
    expect(res.code, res.stderr).toBe(0);
    return res.stdout;
  };
  const typesOf = (m: ImageManifest): MediaTypes => ({ manifest: m.mediaType ?? '', config: m.config.mediaType, layers: m.layers.map((l) => l.mediaType) });

  beforeAll(async () => {
    ctx = join(env.tmp.path, 'ctx');
    await mkdir(ctx, { recursive: true });
    await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo docker-typed > /made\n');
  });

  it('pushes a Docker manifest, config and layers, as Docker 20.10 pushes them, that docker pulls and runs', async () => {
    const ref = `${env.registry.host}/dt/push:v1`;
    const res = await runTbuild(['build', ...base(), '-o', `type=image,name=${ref},push=true,oci-mediatypes=false`, ctx], NO_ATTESTATIONS);
    expect(res.code, res.stderr).toBe(0);
    const manifest = JSON.parse(await raw('dt/push:v1')) as ImageManifest;
    expect(typesOf(manifest)).toEqual(DOCKER_IMAGE);
    expect(manifest.layers.every((l) => l.annotations === undefined)).toBe(true);
    const pulled = await engine.docker('pull', ref);
    expect(pulled.code, pulled.stderr).toBe(0);
    const ran = await engine.docker('run', '--rm', '--network', 'none', ref, 'cat', '/made');
    expect(ran.stdout).toBe('docker-typed\n');
    expect((await engine.docker('rmi', ref)).code).toBe(0);
  });

  it('keeps the media types of an image stored with them when tbuild push sends it later, and through a remote builder', async () => {
    const stored = `${env.registry.host}/dt/stored:v1`;
    const built = await runTbuild(['build', ...base(), '-o', `type=image,name=${stored},oci-mediatypes=false`, ctx]);
    expect(built.code, built.stderr).toBe(0);
    const pushed = await runTbuild(['push', '--root', join(env.tmp.path, 'root'), '--config', env.config, stored]);
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(typesOf(JSON.parse(await raw('dt/stored:v1')) as ImageManifest)).toEqual(DOCKER_IMAGE);
    const viaRemote = `${env.registry.host}/dt/remote:v1`;
    const res = await runTbuild(['build', '--builder', remote.address, '--progress', 'plain', '-o', `type=registry,name=${viaRemote},oci-mediatypes=false`, ctx], NO_ATTESTATIONS);
    expect(res.code, res.stderr).toBe(0);
    expect(typesOf(JSON.parse(await raw('dt/remote:v1')) as ImageManifest)).toEqual(DOCKER_IMAGE);
  });

  it('lists the images of several platforms in a Docker manifest list', async () => {
    const multi = join(env.tmp.path, 'multi');
    await mkdir(multi, { recursive: true });
    await writeFile(join(multi, 'Dockerfile'), 'FROM scratch\nCOPY Dockerfile /\n');
    const res = await runTbuild(['build', ...base(), '--platform', 'linux/amd64,linux/arm64', '-o', `type=registry,name=${env.registry.host}/dt/multi:v1,oci-mediatypes=false`, multi], NO_ATTESTATIONS);
    expect(res.code, res.stderr).toBe(0);
    const list = JSON.parse(await raw('dt/multi:v1')) as ImageIndex;
    expect(list.mediaType).toBe(MEDIA_TYPES.dockerManifestList);
    expect(list.manifests.map((m) => [m.mediaType, m.platform?.architecture])).toEqual([
      [MEDIA_TYPES.dockerManifest, 'amd64'],
      [MEDIA_TYPES.dockerManifest, 'arm64'],
    ]);
  });

  it('writes docker and OCI archives of a Docker manifest, which docker load takes', async () => {
    const dockerTar = join(env.tmp.path, 'dt-docker.tar');
    const res = await runTbuild(['build', ...base(), '-t', 'dt-load:v1', '-o', `type=docker,dest=${dockerTar},oci-mediatypes=false`, '-o', `type=oci,dest=${join(env.tmp.path, 'dt-oci')},tar=false,oci-mediatypes=false`, ctx]);
    expect(res.code, res.stderr).toBe(0);
    const index = JSON.parse(await readFile(join(env.tmp.path, 'dt-oci', 'index.json'), 'utf8')) as ImageIndex;
    const [entry] = index.manifests;
    expect(entry?.mediaType).toBe(MEDIA_TYPES.dockerManifest);
    const manifest = JSON.parse(await readFile(join(env.tmp.path, 'dt-oci', 'blobs', 'sha256', (entry?.digest ?? '').slice(7)), 'utf8')) as ImageManifest;
    expect(typesOf(manifest)).toEqual(DOCKER_IMAGE);
    const load = await engine.docker('load', '-i', dockerTar);
    expect(load.code, load.stderr).toBe(0);
    expect(load.stdout).toContain('dt-load:v1');
    expect((await engine.docker('run', '--rm', '--network', 'none', 'dt-load:v1', 'cat', '/made')).stdout).toBe('docker-typed\n');
    expect((await engine.docker('rmi', 'dt-load:v1')).code).toBe(0);
  });

  it('refuses attestations and index annotations with Docker media types before building, as BuildKit does', async () => {
    const push = `type=image,name=${env.registry.host}/dt/refused:v1,push=true,oci-mediatypes=false`;
    const attested = await runTbuild(['build', ...base(), '-o', push, ctx]);
    expect(attested.code).toBe(2);
    expect(attested.stderr).toMatch(/Cannot export attestations with oci-mediatypes=false \(--output type=image\)/);
    expect(attested.stderr).toContain('BUILDX_NO_DEFAULT_ATTESTATIONS=1');
    const annotated = await runTbuild(['build', ...base(), '-o', `type=oci,dest=${join(env.tmp.path, 'refused.tar')},oci-mediatypes=false,annotation-index.k=v`, ctx]);
    expect(annotated.code).toBe(2);
    expect(annotated.stderr).toMatch(/Cannot export index annotations with oci-mediatypes=false/);
    const artifact = await runTbuild(['build', ...base(), '-o', `${push},oci-artifact=true`, ctx]);
    expect(artifact.code).toBe(2);
    expect(artifact.stderr).toMatch(/oci-artifact=true with oci-mediatypes=false/);
    expect((await run('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${env.registry.host}/dt/refused:v1`])).code).not.toBe(0);
  });
});
