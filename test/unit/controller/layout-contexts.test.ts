import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestHex, digestOf, type Digest } from '../../../base/digest.js';
import { MEDIA_TYPES, type Descriptor } from '../../../base/oci.js';
import { FolderLayout, openLayoutContexts, resolveLayoutContext, type LayoutContextSpec } from '../../../controller/layout-contexts.js';
import { ImageResolutions } from '../../../controller/provenance-capture.js';
import { withLayoutImages, type ImageResolver } from '../../../solver/ops/index.js';

const AMD64 = { os: 'linux', architecture: 'amd64' };
const ARM64 = { os: 'linux', architecture: 'arm64', variant: 'v8' };

/** Layout writes an OCI layout folder: blobs by digest and an index.json. */
class Layout {
  constructor(readonly dir: string) {}
  async blob(value: unknown): Promise<Descriptor> {
    const bytes = Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
    const digest = digestOf(bytes);
    await mkdir(join(this.dir, 'blobs', 'sha256'), { recursive: true });
    await writeFile(join(this.dir, 'blobs', 'sha256', digestHex(digest)), bytes);
    return { mediaType: '', digest, size: bytes.length };
  }
  /** image writes a config and manifest of one platform whose config names `marker` as its WorkingDir. */
  async image(platform: typeof AMD64, marker: string): Promise<Descriptor> {
    const config = await this.blob({ ...platform, rootfs: { type: 'layers', diff_ids: [] }, config: { WorkingDir: marker } });
    const manifest = await this.blob({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config: { ...config, mediaType: MEDIA_TYPES.ociConfig }, layers: [] });
    return { ...manifest, mediaType: MEDIA_TYPES.ociManifest, platform };
  }
  async index(entries: readonly Descriptor[]): Promise<void> {
    await writeFile(join(this.dir, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: entries }));
  }
}

const NO_REGISTRY: ImageResolver = {
  resolve: (ref) => Promise.reject(new Error(`registry asked for ${ref}`)),
  checked: () => Promise.resolve(false),
  moved: () => Promise.resolve(false),
  [Symbol.asyncDispose]: () => Promise.resolve(),
};

describe('OCI layout named contexts', () => {
  let root = '';
  let amd = { digest: '' as Digest } as Descriptor;
  let arm = amd;
  let multi = amd;
  const spec = (o: Partial<LayoutContextSpec> = {}): LayoutContextSpec => ({ name: 'base', type: 'oci-layout', path: join(root, 'l'), ...o });

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'tbuild-layout-'));
    const l = new Layout(join(root, 'l'));
    amd = await l.image(AMD64, '/amd64');
    arm = await l.image(ARM64, '/arm64');
    const idx = await l.blob({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [amd, arm] });
    multi = { ...idx, mediaType: MEDIA_TYPES.ociIndex };
    // `v1` by containerd's full name on one entry and by OCI tag on another: the full name is looked up first.
    await l.index([
      { ...amd, annotations: { 'org.opencontainers.image.ref.name': 'v1' } },
      { ...arm, annotations: { 'io.containerd.image.name': 'v1', 'org.opencontainers.image.ref.name': 'other' } },
      { ...multi, annotations: { 'io.containerd.image.name': 'docker.io/org/multi:latest', 'org.opencontainers.image.ref.name': 'latest' } },
    ]);
    const single = new Layout(join(root, 'single'));
    await single.index([await single.image(AMD64, '/single')]);
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('finds a tag by io.containerd.image.name first, then by org.opencontainers.image.ref.name, as buildx', async () => {
    const folder = new FolderLayout(join(root, 'l'));
    expect(await resolveLayoutContext(spec({ tag: 'v1' }), folder)).toBe(arm.digest);
    expect(await resolveLayoutContext(spec({ tag: 'other' }), folder)).toBe(arm.digest);
    expect(await resolveLayoutContext(spec({ tag: 'latest' }), folder)).toBe(multi.digest);
    expect(await resolveLayoutContext(spec({ tag: 'docker.io/org/multi:latest' }), folder)).toBe(multi.digest);
  });

  it('takes the only image of a layout whatever the tag, and a digest whose blob the layout has', async () => {
    const single = join(root, 'single');
    const only = await resolveLayoutContext(spec({ path: single, tag: 'anything' }), new FolderLayout(single));
    expect(only).toMatch(/^sha256:/);
    // A digest need not be listed in index.json: a platform's manifest inside an index is found by its blob.
    expect(await resolveLayoutContext(spec({ digest: amd.digest }), new FolderLayout(join(root, 'l')))).toBe(amd.digest);
  });

  it('refuses a missing layout, an unknown tag and a digest the layout lacks, naming the flag', async () => {
    const folder = new FolderLayout(join(root, 'l'));
    await expect(resolveLayoutContext(spec({ path: join(root, 'none'), tag: 'v1' }), new FolderLayout(join(root, 'none')))).rejects.toThrow(
      `Cannot use --build-context base=oci-layout://${join(root, 'none')}:v1: ${join(root, 'none')} is not an OCI layout: it has no index.json`,
    );
    await expect(resolveLayoutContext(spec({ tag: 'v9' }), folder)).rejects.toThrow(/--build-context base=oci-layout:.*:v9: .*index.json has 3 images and none is tagged v9 \(its tags are v1, other, latest\)/);
    const missing = digestOf('missing');
    await expect(resolveLayoutContext(spec({ digest: missing }), folder)).rejects.toThrow(`--build-context base=oci-layout://${join(root, 'l')}@${missing}: the layout has no blob ${missing}`);
    await expect(openLayoutContexts([spec({ name: 'Bad_Name', tag: 'v1' })])).rejects.toThrow(/name must be a valid image name/);
  });

  it('resolves the platform of an index from the layout and names the image after the context, never asking a registry', async () => {
    const contexts = await openLayoutContexts([spec({ tag: 'latest' })]);
    const ref = contexts.refs.get('base') ?? '';
    expect(ref).toBe(`oci-layout://base@${multi.digest}`);
    await using images = withLayoutImages(NO_REGISTRY, contexts.layouts);
    const signal = new AbortController().signal;
    const onArm = await images.resolve(ref, { platform: ARM64, signal });
    expect([onArm.digest, onArm.namedDigest, onArm.config.config?.WorkingDir]).toEqual([arm.digest, multi.digest, '/arm64']);
    const onAmd = await images.resolve(ref, { platform: AMD64, signal });
    expect([onAmd.digest, onAmd.config.config?.WorkingDir]).toEqual([amd.digest, '/amd64']);
    expect(onAmd.source).toBe('oci-layout://base');
    await expect(images.resolve(ref, { platform: { os: 'linux', architecture: 's390x' }, signal })).rejects.toThrow(/its index has no manifest for platform linux\/s390x/);
    await expect(images.resolve('docker.io/library/busybox:latest', { platform: AMD64, signal })).rejects.toThrow('registry asked for docker.io/library/busybox:latest');
    // The provenance names it as BuildKit does: an OCI package named after the context, with the digest the context named.
    const resolutions = new ImageResolutions();
    resolutions.add('docker.io/library/base@' + multi.digest, onAmd.digest, onAmd.namedDigest, [], ref);
    expect(resolutions.of(ref)).toEqual({ ref: `docker.io/library/base@${multi.digest}`, digest: multi.digest, local: true });
  });

  it('refuses a blob whose bytes do not match its digest', async () => {
    const l = new Layout(join(root, 'bad'));
    const good = await l.image(AMD64, '/x');
    await writeFile(join(root, 'bad', 'blobs', 'sha256', digestHex(good.digest)), '{"tampered":true}');
    await l.index([good]);
    const contexts = await openLayoutContexts([spec({ path: join(root, 'bad'), tag: 'latest' })]);
    await using images = withLayoutImages(NO_REGISTRY, contexts.layouts);
    await expect(images.resolve(contexts.refs.get('base') ?? '', { platform: AMD64, signal: new AbortController().signal })).rejects.toThrow(/does not match its digest/);
  });
});
