import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { BASES_CACHE, makeBases } from '../compat/bases.js';
import { run, runTbuild } from '../helpers/cli.js';
import { useBuildEnvironment, useRemoteBuilder } from '../helpers/build-env.js';
import { plainSteps } from '../helpers/plain-steps.js';

const execFileAsync = promisify(execFile);

interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly annotations?: Record<string, string>;
  readonly platform?: { os: string; architecture: string };
}
interface Index {
  readonly mediaType: string;
  readonly manifests: Descriptor[];
}
interface Manifest {
  readonly mediaType: string;
  readonly artifactType?: string;
  readonly config: Descriptor;
  readonly layers: Descriptor[];
  readonly subject?: Descriptor;
}
interface Statement {
  readonly _type: string;
  readonly predicateType: string;
  readonly subject: { name: string; digest: Record<string, string> }[];
  readonly predicate: Record<string, unknown>;
}

/** installedPackages lists `name version arch` of every installed package in the debian base's dpkg status. */
async function installedPackages(): Promise<string[]> {
  const oci = join(BASES_CACHE, 'debian', 'oci');
  const index = JSON.parse(await readFile(join(oci, 'index.json'), 'utf8')) as Index;
  const manifest = JSON.parse(await readFile(join(oci, 'blobs/sha256', index.manifests[0]?.digest.slice(7) ?? ''), 'utf8')) as Manifest;
  const layer = join(oci, 'blobs/sha256', manifest.layers[0]?.digest.slice(7) ?? '');
  const { stdout } = await execFileAsync('tar', ['-xzOf', layer, 'var/lib/dpkg/status'], { maxBuffer: 64 * 1024 * 1024 });
  return stdout
    .split('\n\n')
    .filter((s) => /^Status: .* installed$/m.test(s))
    .map((s) => `${/^Package: (.*)$/m.exec(s)?.[1]} ${/^Version: (.*)$/m.exec(s)?.[1]} ${/^Architecture: (.*)$/m.exec(s)?.[1]}`);
}

describe('attestations (--provenance, --sbom, --attest)', () => {
  const env = useBuildEnvironment();
  const remote = useRemoteBuilder(env);
  let base: string[];
  let ctx: string;
  const raw = async (ref: string): Promise<{ text: string; digest: string }> => {
    const res = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]);
    expect(res.code, res.stderr).toBe(0);
    return { text: res.stdout, digest: `sha256:${createHash('sha256').update(res.stdout).digest('hex')}` };
  };
  const blob = async (repo: string, digest: string): Promise<string> => {
    const res = await fetch(`${env.registry.url}/v2/${repo}/blobs/${digest}`);
    expect(res.status).toBe(200);
    return res.text();
  };
  /** statements reads the attestation manifest of an index's single image and its in-toto statements. */
  const statements = async (repo: string, index: Index): Promise<{ image: Descriptor; attestation: Manifest; statements: Statement[] }> => {
    const [image, att] = index.manifests;
    if (image === undefined || att === undefined) throw new Error(`expected an image and an attestation manifest: ${JSON.stringify(index)}`);
    const attestation = JSON.parse((await raw(`${env.registry.host}/${repo}@${att.digest}`)).text) as Manifest;
    const stmts = await Promise.all(attestation.layers.map(async (l) => JSON.parse(await blob(repo, l.digest)) as Statement));
    return { image, attestation, statements: stmts };
  };

  /** helloContext makes a context folder of the Dockerfile and a file `hello`. */
  const helloContext = async (name: string, dockerfile: string): Promise<string> => {
    const dir = join(env.tmp.path, name);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'Dockerfile'), dockerfile);
    await writeFile(join(dir, 'hello'), 'hello\n');
    return dir;
  };

  beforeAll(async () => {
    await makeBases(env.registry.host);
    base = ['--root', join(env.tmp.path, 'root'), '--config', env.config, '--progress', 'plain'];
    ctx = join(env.tmp.path, 'ctx');
    await mkdir(ctx, { recursive: true });
    await writeFile(join(ctx, 'Dockerfile'), 'FROM debian:bookworm\nARG FOO\nRUN echo "$FOO" > /foo\n');
  });

  it('pushes an index with the image and its attestation manifest: an SPDX SBOM of the dpkg packages and a max provenance', async () => {
    const h = env.registry.host;
    const meta = join(env.tmp.path, 'meta.json');
    const res = await runTbuild(['build', ...base, '--provenance=mode=max,version=v0.2', '--sbom=true', '--build-arg', 'FOO=bar', '--metadata-file', meta, '-t', `${h}/attest/deb:v1`, '--push', ctx]);
    expect(res.code, res.stderr).toBe(0);
    const top = await raw(`${h}/attest/deb:v1`);
    const index = JSON.parse(top.text) as Index;
    expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect((JSON.parse(await readFile(meta, 'utf8')) as Record<string, string>)['containerimage.digest']).toBe(top.digest);
    expect(index.manifests).toHaveLength(2);
    const { image, attestation, statements: stmts } = await statements('attest/deb', index);
    expect(image.platform).toEqual({ architecture: 'amd64', os: 'linux' });
    expect(index.manifests[1]).toMatchObject({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': image.digest },
      platform: { architecture: 'unknown', os: 'unknown' },
    });
    expect(attestation.artifactType).toBe('application/vnd.docker.attestation.manifest.v1+json');
    expect(attestation.subject).toEqual({ mediaType: image.mediaType, digest: image.digest, size: image.size });
    expect(attestation.layers.map((l) => [l.mediaType, l.annotations?.['in-toto.io/predicate-type']])).toEqual([
      ['application/vnd.in-toto+json', 'https://spdx.dev/Document'],
      ['application/vnd.in-toto+json', 'https://slsa.dev/provenance/v0.2'],
    ]);
    const subject = { name: `pkg:docker/${encodeURIComponent(h)}/attest/deb@v1?platform=linux%2Famd64`, digest: { sha256: image.digest.slice(7) } };
    for (const s of stmts) expect(s).toMatchObject({ _type: 'https://in-toto.io/Statement/v1', subject: [subject] });

    // The SBOM lists every package dpkg installed in the base, with its version and architecture.
    const sbom = stmts[0]?.predicate as { spdxVersion: string; packages: { name: string; versionInfo: string; externalRefs?: { referenceLocator: string }[] }[] };
    expect(sbom.spdxVersion).toBe('SPDX-2.3');
    const installed = await installedPackages();
    expect(installed.length).toBeGreaterThan(50);
    for (const line of installed) {
      const [name, version, arch] = line.split(' ');
      const found = sbom.packages.find((p) => p.name === name && p.versionInfo === version);
      expect(found, line).toBeDefined();
      const purl = found?.externalRefs?.[0]?.referenceLocator ?? '';
      expect(purl.startsWith(`pkg:deb/debian/${encodeURIComponent(name ?? '')}@`), purl).toBe(true);
      expect(purl, line).toMatch(new RegExp(`\\?arch=${arch}(&upstream=[^&]+)?&distro=debian-12$`));
    }

    // The provenance pins the base image by the digest its tag named and records the build in max mode.
    const prov = stmts[1]?.predicate as { buildType: string; materials: { uri: string; digest: Record<string, string> }[]; invocation: { parameters: { args: Record<string, string> } }; buildConfig: { llbDefinition: { id: string }[] }; metadata: Record<string, unknown> };
    const debian = await raw(`${h}/library/debian:bookworm`);
    expect(prov.buildType).toBe('https://mobyproject.org/buildkit@v1');
    expect(prov.materials).toEqual([{ uri: 'pkg:docker/debian@bookworm?platform=linux%2Famd64', digest: { sha256: debian.digest.slice(7) } }]);
    expect(prov.invocation.parameters.args).toEqual({ 'build-arg:FOO': 'bar' });
    expect(prov.buildConfig.llbDefinition.map((s) => s.id)).toEqual(['step0', 'step1', 'step2']);
    const buildkit = prov.metadata['https://mobyproject.org/buildkit@v1#metadata'] as { layers: Record<string, unknown[][]> };
    expect(Object.keys(buildkit.layers).sort()).toEqual(['step0:0', 'step1:0']);
    expect(buildkit.layers['step1:0']?.[0]).toHaveLength(2);
  });

  it('pushes a mode=min provenance by default, and a bare manifest without one when it is turned off', async () => {
    const h = env.registry.host;
    const byDefault = await runTbuild(['build', ...base, '-t', `${h}/attest/default:v1`, '--push', ctx]);
    expect(byDefault.code, byDefault.stderr).toBe(0);
    const index = JSON.parse((await raw(`${h}/attest/default:v1`)).text) as Index;
    const { statements: stmts } = await statements('attest/default', index);
    // As in BuildKit, provenance is SLSA v1 unless v0.2 is asked for.
    expect(stmts.map((s) => s.predicateType)).toEqual(['https://slsa.dev/provenance/v1']);
    expect(stmts[0]?.predicate['buildDefinition']).toBeDefined();
    for (const off of [{ args: ['--provenance=false'], env: {} }, { args: [], env: { BUILDX_NO_DEFAULT_ATTESTATIONS: '1' } }]) {
      const res = await runTbuild(['build', ...base, ...off.args, '-t', `${h}/attest/off:v1`, '--push', ctx], { env: off.env });
      expect(res.code, res.stderr).toBe(0);
      expect((JSON.parse((await raw(`${h}/attest/off:v1`)).text) as Manifest).mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    }
  });

  it('writes the SBOM into an OCI archive, without the default provenance meant for pushes', async () => {
    const dest = join(env.tmp.path, 'sbom.tar');
    const res = await runTbuild(['build', ...base, '--sbom=true', '-o', `type=oci,dest=${dest},oci-artifact=false`, ctx]);
    expect(res.code, res.stderr).toBe(0);
    const layout = join(env.tmp.path, 'sbom-layout');
    await mkdir(layout);
    await execFileAsync('tar', ['-xf', dest, '-C', layout]);
    const read = async (digest: string): Promise<string> => readFile(join(layout, 'blobs/sha256', digest.slice(7)), 'utf8');
    const top = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as Index;
    expect(top.manifests[0]?.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    const index = JSON.parse(await read(top.manifests[0]?.digest ?? '')) as Index;
    const attestation = JSON.parse(await read(index.manifests[1]?.digest ?? '')) as Manifest;
    // oci-artifact=false: an image config of platform unknown/unknown, and no subject.
    expect(attestation.subject).toBeUndefined();
    expect(JSON.parse(await read(attestation.config.digest))).toMatchObject({ architecture: 'unknown', os: 'unknown' });
    expect(attestation.layers.map((l) => l.annotations?.['in-toto.io/predicate-type'])).toEqual(['https://spdx.dev/Document']);
    const inspect = await run('skopeo', ['inspect', `oci-archive:${dest}`]);
    expect(inspect.code, inspect.stderr).toBe(0);
  });

  it('attaches attestations on a remote builder (--builder), SLSA v1 on request', async () => {
    const h = env.registry.host;
    const res = await runTbuild(['build', '--builder', remote.address, '--progress', 'plain', '--sbom=true', '--provenance=mode=max,version=v1', '-t', `${h}/attest/remote:v1`, '--push', ctx]);
    expect(res.code, res.stderr).toBe(0);
    const index = JSON.parse((await raw(`${h}/attest/remote:v1`)).text) as Index;
    const { statements: stmts } = await statements('attest/remote', index);
    expect(stmts.map((s) => s.predicateType)).toEqual(['https://spdx.dev/Document', 'https://slsa.dev/provenance/v1']);
    expect(stmts[1]?.predicate).toMatchObject({ buildDefinition: { internalParameters: { buildConfig: { llbDefinition: expect.any(Array) } } }, runDetails: { builder: { id: '' } } });
  });

  it('writes the platforms of a local output at its root with platform-split=false on a remote builder, each provenance named after its platform', async () => {
    const dir = await helloContext('split-ctx', 'FROM scratch\nARG TARGETARCH\nCOPY hello /hello_${TARGETARCH}\n');
    const out = join(env.tmp.path, 'split-out');
    const res = await runTbuild(['build', '--builder', remote.address, '--progress', 'plain', '--provenance=mode=min', '--platform', 'linux/amd64,linux/arm64', '-o', `type=local,dest=${out},platform-split=false`, dir]);
    expect(res.code, res.stderr).toBe(0);
    for (const arch of ['amd64', 'arm64']) {
      expect(await readFile(join(out, `hello_${arch}`), 'utf8')).toBe('hello\n');
      const provenance = JSON.parse(await readFile(join(out, `provenance.linux_${arch}.json`), 'utf8')) as Statement;
      expect(provenance.subject.map((s) => s.name)).toEqual([`hello_${arch}`]);
    }
    await expect(stat(join(out, 'linux_amd64'))).rejects.toThrow(/ENOENT/);
  });

  it('lists the attestation manifest under the referrers tag of a registry without the referrers API (attestation-referrers=true)', async () => {
    const h = env.registry.host;
    const res = await runTbuild(['build', ...base, '--sbom=true', '-o', `type=registry,name=${h}/attest/refs:v1,attestation-referrers=true`, ctx]);
    expect(res.code, res.stderr).toBe(0);
    const index = JSON.parse((await raw(`${h}/attest/refs:v1`)).text) as Index;
    const [image, att] = index.manifests;
    // This registry (distribution 2.8) has no referrers API: the fallback tag sha256-HEX lists the referrer.
    expect((await fetch(`${env.registry.url}/v2/attest/refs/referrers/${image?.digest ?? ''}`)).status).toBe(404);
    const referrers = JSON.parse((await raw(`${h}/attest/refs:${(image?.digest ?? '').replace(':', '-')}`)).text) as Index & { manifests: (Descriptor & { artifactType?: string })[] };
    expect(referrers.manifests).toEqual([{ mediaType: att?.mediaType, digest: att?.digest, size: att?.size, artifactType: 'application/vnd.docker.attestation.manifest.v1+json' }]);
  });

  it('imports the inline cache of an image pushed with its default provenance', async () => {
    const h = env.registry.host;
    const first = await runTbuild(['build', ...base, '--cache-to', 'type=inline', '-t', `${h}/attest/inline:v1`, '--push', ctx]);
    expect(first.code, first.stderr).toBe(0);
    const fresh = ['--root', join(env.tmp.path, 'root-inline'), '--config', env.config, '--progress', 'plain'];
    const second = await runTbuild(['build', ...fresh, '--cache-from', `${h}/attest/inline:v1`, '-t', `${h}/attest/inline:v2`, '--push', ctx]);
    expect(second.code, second.stderr).toBe(0);
    const run = plainSteps(second.stderr).find((step) => step.name.includes('RUN'));
    expect(run?.cached, second.stderr).toBe(true);
  });

  it('records a download ADD fetched by its content digest among the materials of an OCI archive\'s provenance', async () => {
    const body = 'downloaded for the provenance\n';
    const server = createServer((_req, res) => res.end(body));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const address = server.address();
      const url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/hello.txt`;
      const dir = join(env.tmp.path, 'http-ctx');
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'Dockerfile'), `FROM busybox\nADD ${url} /hello.txt\n`);
      const dest = join(env.tmp.path, 'http.tar');
      const res = await runTbuild(['build', ...base, '--provenance=mode=min,version=v0.2', '-o', `type=oci,dest=${dest}`, dir]);
      expect(res.code, res.stderr).toBe(0);
      const layout = join(env.tmp.path, 'http-layout');
      await mkdir(layout);
      await execFileAsync('tar', ['-xf', dest, '-C', layout]);
      const read = async (digest: string): Promise<string> => readFile(join(layout, 'blobs/sha256', digest.slice(7)), 'utf8');
      const top = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as Index;
      const index = JSON.parse(await read(top.manifests[0]?.digest ?? '')) as Index;
      const attestation = JSON.parse(await read(index.manifests[1]?.digest ?? '')) as Manifest;
      const statement = JSON.parse(await read(attestation.layers[0]?.digest ?? '')) as Statement;
      expect(statement.predicate['materials']).toContainEqual({ uri: url, digest: { sha256: createHash('sha256').update(body).digest('hex') } });
    } finally {
      server.close();
    }
  });

  it('writes attestations as files at the root of local and tar outputs, about every file, as BuildKit does', async () => {
    const dir = await helloContext('files-ctx', 'FROM busybox\nCOPY hello /hello\n');
    const out = join(env.tmp.path, 'files-out');
    const local = await runTbuild(['build', ...base, '--sbom=true', '-o', `type=local,dest=${out}`, dir]);
    expect(local.code, local.stderr).toBe(0);
    // The default provenance is for pushes only: the SBOM alone is written.
    const sbom = JSON.parse(await readFile(join(out, 'sbom.spdx.json'), 'utf8')) as Statement;
    expect(sbom.predicateType).toBe('https://spdx.dev/Document');
    expect(sbom.subject).toContainEqual({ name: 'hello', digest: { sha256: createHash('sha256').update('hello\n').digest('hex') } });
    expect(sbom.subject.some((s) => s.name === 'bin/busybox')).toBe(true);
    expect((await stat(join(out, 'sbom.spdx.json'))).mode & 0o777).toBe(0o600);
    await expect(stat(join(out, 'provenance.json'))).rejects.toThrow(/ENOENT/);

    const tar = join(env.tmp.path, 'files.tar');
    const res = await runTbuild(['build', ...base, '--provenance=mode=min', '-o', `type=tar,dest=${tar}`, dir]);
    expect(res.code, res.stderr).toBe(0);
    const { stdout } = await execFileAsync('tar', ['-xOf', tar, 'provenance.json']);
    const provenance = JSON.parse(stdout) as Statement;
    expect(provenance.predicateType).toBe('https://slsa.dev/provenance/v1');
    expect(provenance.subject.map((s) => s.name)).toContain('hello');
  });
});
