import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCountingProxy, type CountingProxy } from '../fixtures/counting-proxy.js';
import { MULTIARCH_REPOSITORY, seedMultiarchBusybox, SEED_TIMEOUT_MS } from '../fixtures/multiarch-busybox.js';
import { startRegistry, type TestRegistry } from '../fixtures/registry.js';
import { makeTempDir, runTbuild, writeMirrorConfig, type CliResult, type TempDir } from '../helpers/cli.js';

const execFileAsync = promisify(execFile);

interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}
interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
}
interface IndexDoc {
  mediaType: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}
interface ManifestDoc {
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

/** The manifest or index bytes skopeo reads, exactly as the registry serves them. */
async function skopeoRaw(ref: string): Promise<Buffer> {
  const { stdout } = await execFileAsync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`], { encoding: 'buffer', maxBuffer: 1 << 22 });
  return stdout;
}

function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function platformText(p: Platform): string {
  return [p.os, p.architecture, ...(p.variant === undefined ? [] : [p.variant])].join('/');
}

describe('tbuild imagetools', () => {
  let registry: TestRegistry;
  let proxy: CountingProxy;
  let tmp: TempDir;
  let settings: string;
  let index: IndexDoc;
  let indexBytes: Buffer;
  const repo = (): string => `${registry.host}/${MULTIARCH_REPOSITORY}`;
  const imagetools = (args: readonly string[]): Promise<CliResult> => runTbuild(['imagetools', ...args, '--config', settings]);
  const entry = (architecture: string): Descriptor => {
    const found = index.manifests.find((m) => m.platform?.architecture === architecture);
    if (found === undefined) throw new Error(`the fixture has no ${architecture} image`);
    return found;
  };

  beforeAll(async () => {
    registry = await startRegistry();
    tmp = await makeTempDir();
    await seedMultiarchBusybox(registry.host);
    proxy = await startCountingProxy(registry.host);
    settings = join(tmp.path, 'tbuild.toml');
    await writeFile(settings, '');
    indexBytes = await skopeoRaw(`${repo()}:latest`);
    index = JSON.parse(indexBytes.toString()) as IndexDoc;
  }, SEED_TIMEOUT_MS);
  afterAll(async () => {
    await proxy?.close();
    await registry?.stop();
    await tmp?.[Symbol.asyncDispose]();
  });

  it('inspects an index as buildx prints it: name, media type, digest, and each entry with its platform', async () => {
    const res = await imagetools(['inspect', `${repo()}:latest`]);
    expect(res.code, res.stderr).toBe(0);
    const lines = [`Name:      ${repo()}:latest`, `MediaType: ${index.mediaType}`, `Digest:    ${sha256(indexBytes)}`, ' '.repeat(11), 'Manifests: '];
    index.manifests.forEach((m, i) => {
      if (i > 0) lines.push(' '.repeat(13));
      lines.push(`  Name:      ${repo()}:latest@${m.digest}`, `  MediaType: ${m.mediaType}`, `  Platform:  ${platformText(m.platform ?? { os: '?', architecture: '?' })}`);
    });
    expect(res.stdout).toBe(`${lines.join('\n')}\n`);
    expect(index.manifests.map((m) => m.platform?.architecture)).toEqual(['amd64', 'arm64', 'arm']);
  });

  it('inspects a single manifest: name, media type and digest only', async () => {
    const arm = entry('arm');
    const raw = await skopeoRaw(`${repo()}@${arm.digest}`);
    const res = await imagetools(['inspect', `${repo()}@${arm.digest}`]);
    expect(res.code, res.stderr).toBe(0);
    const manifest = JSON.parse(raw.toString()) as ManifestDoc;
    expect(res.stdout).toBe(`Name:      ${repo()}@${arm.digest}\nMediaType: ${manifest.mediaType}\nDigest:    ${sha256(raw)}\n`);
  });

  it('--raw prints the bytes the registry serves, digest intact', async () => {
    const res = await imagetools(['inspect', '--raw', `${repo()}:latest`]);
    expect(res.code, res.stderr).toBe(0);
    expect(Buffer.from(res.stdout)).toEqual(indexBytes);
    const single = await imagetools(['inspect', '--raw', `${repo()}@${entry('amd64').digest}`]);
    expect(sha256(single.stdout)).toBe(entry('amd64').digest);
  });

  it('--format renders {{json .Manifest}}, {{json .Image}} and field paths as buildx does, and refuses other templates', async () => {
    const manifest = await imagetools(['inspect', '--format', '{{json .Manifest}}', `${repo()}:latest`]);
    expect(manifest.code, manifest.stderr).toBe(0);
    expect(JSON.parse(manifest.stdout)).toEqual({ schemaVersion: 2, mediaType: index.mediaType, digest: sha256(indexBytes), size: indexBytes.length, manifests: index.manifests });
    const image = await imagetools(['inspect', '--format', '{{json .Image}}', `${repo()}:latest`]);
    expect(image.code, image.stderr).toBe(0);
    const images = JSON.parse(image.stdout) as Record<string, { architecture: string; rootfs: { diff_ids: string[] } }>;
    expect(Object.keys(images)).toEqual(['linux/amd64', 'linux/arm/v7', 'linux/arm64']);
    expect(images['linux/arm64']?.architecture).toBe('arm64');
    const one = await imagetools(['inspect', '--format', '{{json (index .Image "linux/arm/v7")}}', `${repo()}:latest`]);
    expect(JSON.parse(one.stdout)).toEqual(images['linux/arm/v7']);
    const digest = await imagetools(['inspect', '--format', 'digest={{.Manifest.Digest}} size={{.Manifest.Size}}', `${repo()}:latest`]);
    expect(digest.stdout).toBe(`digest=${sha256(indexBytes)} size=${indexBytes.length}`);
    const refused = await imagetools(['inspect', '--format', '{{range .Manifest.Manifests}}{{.Digest}}{{end}}', `${repo()}:latest`]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('"range" is not supported');
  });

  it('reads the registry settings of --config: a docker.io name resolves through its mirror', async () => {
    const dir = join(tmp.path, 'mirror');
    await execFileAsync('mkdir', ['-p', dir]);
    const mirror = await writeMirrorConfig(dir, registry.host);
    const res = await runTbuild(['imagetools', 'inspect', '--config', mirror, '--format', '{{.Manifest.Digest}}', 'busybox-multiarch']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toBe(sha256(indexBytes));
  });

  it('creates one index in another repository from two single-platform images, mounting their blobs', async () => {
    const [amd64, arm64] = [entry('amd64'), entry('arm64')];
    const source = `${proxy.host}/${MULTIARCH_REPOSITORY}`;
    const target = `${proxy.host}/team/app:v1`;
    proxy.reset();
    const res = await imagetools(['create', '--progress', 'plain', '-t', target, `${source}@${amd64.digest}`, `${source}@${arm64.digest}`]);
    expect(res.code, res.stderr).toBe(0);
    const created = JSON.parse((await skopeoRaw(`${registry.host}/team/app:v1`)).toString()) as IndexDoc;
    expect(created.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    // Images named by digest get their platform from their config, normalized as buildx does (arm64/v8 is arm64).
    expect(created.manifests.map((m) => [m.digest, m.platform])).toEqual([
      [amd64.digest, { os: 'linux', architecture: 'amd64' }],
      [arm64.digest, { os: 'linux', architecture: 'arm64' }],
    ]);
    const configs: string[] = [];
    const layers: string[] = [];
    for (const d of [amd64, arm64]) {
      const manifest = JSON.parse((await skopeoRaw(`${registry.host}/team/app@${d.digest}`)).toString()) as ManifestDoc;
      configs.push(manifest.config.digest);
      layers.push(...manifest.layers.map((l) => l.digest));
    }
    // Every blob was mounted from the source repository: no layer was downloaded, nothing was uploaded.
    for (const b of [...configs, ...layers]) expect(res.stderr).toContain(`mounted ${b}`);
    const mounts = proxy.requests.filter((r) => r.startsWith('POST /v2/team/app/blobs/uploads/?mount=') && r.includes(`from=${encodeURIComponent(MULTIARCH_REPOSITORY)}`));
    expect(mounts).toHaveLength(configs.length + layers.length);
    expect(proxy.requests.filter((r) => r.startsWith('GET') && layers.some((l) => r.endsWith(`/blobs/${l}`)))).toEqual([]);
    expect(proxy.requests.filter((r) => r.startsWith('PATCH') || (r.startsWith('PUT') && r.includes('/blobs/')))).toEqual([]);
    // The target repository holds a complete, pullable image for each platform.
    const layout = join(tmp.path, 'pulled');
    await execFileAsync('skopeo', ['copy', '--quiet', '--all', '--src-tls-verify=false', `docker://${registry.host}/team/app:v1`, `oci:${layout}:v1`]);
    const pulled = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as IndexDoc;
    expect(pulled.manifests).toHaveLength(1);
  });

  it('--append adds a platform to the index a tag names, and --dry-run prints the index without pushing', async () => {
    const target = `${registry.host}/team/app:v1`;
    const before = await skopeoRaw(target);
    const arm = entry('arm');
    const dry = await imagetools(['create', '--dry-run', '--append', '-t', target, `${repo()}@${arm.digest}`]);
    expect(dry.code, dry.stderr).toBe(0);
    const printed = JSON.parse(dry.stdout) as IndexDoc;
    expect(printed.manifests.map((m) => m.platform?.architecture)).toEqual(['amd64', 'arm64', 'arm']);
    expect(await skopeoRaw(target)).toEqual(before);
    const res = await imagetools(['create', '--append', '-t', target, `${repo()}@${arm.digest}`]);
    expect(res.code, res.stderr).toBe(0);
    const after = await skopeoRaw(target);
    expect(after.toString()).toBe(dry.stdout.slice(0, -1));
    expect((JSON.parse(after.toString()) as IndexDoc).manifests.map((m) => m.digest)).toEqual([entry('amd64').digest, entry('arm64').digest, arm.digest]);
  });

  it('lets two different images of one platform into the index, as buildx does', async () => {
    // A rebuilt amd64 image: the same config and layers, another manifest digest.
    const amd64 = entry('amd64');
    const manifest = JSON.parse((await skopeoRaw(`${repo()}@${amd64.digest}`)).toString()) as ManifestDoc;
    const rebuilt = JSON.stringify({ ...manifest, annotations: { 'org.opencontainers.image.revision': 'rebuilt' } });
    const put = await fetch(`http://${registry.host}/v2/${MULTIARCH_REPOSITORY}/manifests/amd64-rebuilt`, {
      method: 'PUT',
      headers: { 'content-type': manifest.mediaType },
      body: rebuilt,
    });
    expect(put.status).toBe(201);
    const target = `${registry.host}/team/twice:v1`;
    const res = await imagetools(['create', '-t', target, `${repo()}:latest`, `${repo()}:amd64-rebuilt`]);
    expect(res.code, res.stderr).toBe(0);
    const pushed = JSON.parse((await skopeoRaw(target)).toString()) as IndexDoc;
    expect(pushed.manifests.map((m) => m.digest)).toEqual([...index.manifests.map((m) => m.digest), sha256(rebuilt)]);
    expect(pushed.manifests.filter((m) => m.platform?.architecture === 'amd64').map((m) => m.digest)).toEqual([amd64.digest, sha256(rebuilt)]);
  });

  it('copies an index to another registry byte for byte, streaming its blobs through', async () => {
    await using other = await startRegistry();
    const res = await imagetools(['create', '--progress', 'plain', '--metadata-file', join(tmp.path, 'meta.json'), '-t', `${other.host}/copy/app:1`, `${repo()}:latest`]);
    expect(res.code, res.stderr).toBe(0);
    expect(await skopeoRaw(`${other.host}/copy/app:1`)).toEqual(indexBytes);
    expect(res.stderr).not.toContain('mounted');
    expect(res.stderr.match(/^#1 pushing sha256:[0-9a-f]{64} .* done$/gm)).toHaveLength(2 * index.manifests.length);
    const meta = JSON.parse(await readFile(join(tmp.path, 'meta.json'), 'utf8')) as Record<string, unknown>;
    expect(meta).toEqual({ 'containerimage.descriptor': { mediaType: index.mediaType, digest: sha256(indexBytes), size: indexBytes.length }, 'image.name': `${other.host}/copy/app` });
    const layout = join(tmp.path, 'copied');
    await execFileAsync('skopeo', ['copy', '--quiet', '--all', '--src-tls-verify=false', `docker://${other.host}/copy/app:1`, `oci:${layout}:1`]);
  });

  it('--platform keeps only the platforms asked for, their images copied into the tag\'s repository', async () => {
    const target = `${registry.host}/team/filtered:v1`;
    const res = await imagetools(['create', '--platform', 'linux/arm/v7', '--platform', 'linux/arm64,linux/arm/v7', '-t', target, `${repo()}:latest`]);
    expect(res.code, res.stderr).toBe(0);
    const filtered = JSON.parse((await skopeoRaw(target)).toString()) as IndexDoc;
    // In the source's order, descriptors unchanged; its arm64/v8 entry matches linux/arm64, as containerd normalizes both.
    expect(filtered.manifests).toEqual(index.manifests.filter((m) => ['arm64', 'arm'].includes(m.platform?.architecture ?? '')));
    expect(filtered.manifests).toHaveLength(2);
    const amd64Only = await imagetools(['create', '--dry-run', '--platform', 'linux/amd64', '-t', target, `${repo()}:latest`]);
    expect(amd64Only.code, amd64Only.stderr).toBe(0);
    expect((JSON.parse(amd64Only.stdout) as IndexDoc).manifests.map((m) => m.digest)).toEqual([entry('amd64').digest]);
    // Every kept image is complete in the new repository.
    await execFileAsync('skopeo', ['copy', '--quiet', '--all', '--src-tls-verify=false', `docker://${target}`, `oci:${join(tmp.path, 'filtered')}:v1`]);
    const none = await imagetools(['create', '--platform', 'linux/riscv64', '-t', `${registry.host}/team/filtered:v2`, `${repo()}:latest`]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('none of its images is for --platform linux/riscv64');
  });

  it('--prefer-index=false pushes a single image source as it is; by default it becomes an index of one image', async () => {
    const arm64 = entry('arm64');
    const manifest = await skopeoRaw(`${repo()}@${arm64.digest}`);
    const copy = `${registry.host}/team/single:copy`;
    const res = await imagetools(['create', '--prefer-index=false', '-t', copy, `${repo()}@${arm64.digest}`]);
    expect(res.code, res.stderr).toBe(0);
    expect(await skopeoRaw(copy)).toEqual(manifest);
    const wrapped = `${registry.host}/team/single:index`;
    const indexed = await imagetools(['create', '-t', wrapped, `${repo()}@${arm64.digest}`]);
    expect(indexed.code, indexed.stderr).toBe(0);
    const doc = JSON.parse((await skopeoRaw(wrapped)).toString()) as IndexDoc;
    expect(doc.manifests.map((m) => [m.digest, m.platform])).toEqual([[arm64.digest, { os: 'linux', architecture: 'arm64' }]]);
    const other = await imagetools(['create', '--prefer-index=false', '--platform', 'linux/amd64', '-t', copy, `${repo()}@${arm64.digest}`]);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain('its platform linux/arm64 is not one of --platform linux/amd64');
  });

  it('fails with a clear message and exit code 1 on a tag that does not exist', async () => {
    const inspect = await imagetools(['inspect', `${repo()}:no-such-tag`]);
    expect(inspect.code).toBe(1);
    expect(inspect.stderr).toBe(`ERROR: Cannot fetch manifest "${repo()}:no-such-tag": manifest unknown\n`);
    const create = await imagetools(['create', '-t', `${registry.host}/team/app:v2`, `${repo()}:no-such-tag`]);
    expect(create.code).toBe(1);
    expect(create.stderr).toContain(`Cannot fetch manifest "${repo()}:no-such-tag": manifest unknown`);
  });
});
