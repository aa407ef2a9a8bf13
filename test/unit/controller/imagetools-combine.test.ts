import { describe, expect, it } from 'vitest';
import { parseDigest } from '../../../base/digest.js';
import { MEDIA_TYPES } from '../../../base/oci.js';
import { combineSources, type FetchedSource } from '../../../controller/imagetools-combine.js';
import { assignRepositories, parseIndexAnnotations, parseIndexSource, type IndexEntry } from '../../../controller/imagetools-sources.js';
import { parseReference } from '../../../registry/index.js';

const D = (c: string) => parseDigest(`sha256:${c.repeat(64)}`);
const image = (c: string, architecture: string, mediaType: string = MEDIA_TYPES.ociManifest): IndexEntry => ({ mediaType, digest: D(c), size: 400, platform: { os: 'linux', architecture } });

function fetched(input: string, entry: IndexEntry, children: IndexEntry[] = []): FetchedSource {
  return { source: parseIndexSource(input), entry, bytes: Buffer.from(`{"doc":"${input}"}`), children };
}

describe('imagetools create: combining sources into an index', () => {
  it('copies a single index source byte for byte', () => {
    const index = fetched('r/x:1', { mediaType: MEDIA_TYPES.ociIndex, digest: D('f'), size: 20 }, [image('1', 'amd64')]);
    const combined = combineSources([index], [], true);
    expect(combined.bytes).toBe(index.bytes);
    expect(combined.digest).toBe(D('f'));
    expect(combined.entries.map((e) => e.entry.digest)).toEqual([D('1')]);
  });

  it('with preferIndex false copies a single image source as it is, and still makes an index of several', () => {
    const one = fetched('r/x:1', image('1', 'amd64'));
    const copied = combineSources([one], [], false);
    expect(copied.bytes).toBe(one.bytes);
    expect([copied.mediaType, copied.digest]).toEqual([MEDIA_TYPES.ociManifest, D('1')]);
    expect(combineSources([one], [], true).mediaType).toBe(MEDIA_TYPES.ociIndex);
    expect(combineSources([one], parseIndexAnnotations(['index:k=v']), false).mediaType).toBe(MEDIA_TYPES.ociIndex);
    expect(combineSources([one, fetched('r/x:2', image('2', 'arm64'))], [], false).mediaType).toBe(MEDIA_TYPES.ociIndex);
  });

  it('writes the index as buildx marshals it, entries of one digest merged, in source order', () => {
    const index = fetched('r/x:1', { mediaType: MEDIA_TYPES.ociIndex, digest: D('f'), size: 20 }, [image('1', 'amd64'), image('2', 'arm64')]);
    const again = fetched(`r/x@${D('2')}`, { ...image('2', 'arm64'), annotations: { a: 'b' } });
    const combined = combineSources([index, again, fetched('r/y:2', image('3', 'riscv64'))], [], true);
    expect(Buffer.from(combined.bytes).toString()).toBe(`{
  "schemaVersion": 2,
  "mediaType": "application/vnd.oci.image.index.v1+json",
  "manifests": [
    {
      "mediaType": "application/vnd.oci.image.manifest.v1+json",
      "digest": "${D('1')}",
      "size": 400,
      "platform": {
        "architecture": "amd64",
        "os": "linux"
      }
    },
    {
      "mediaType": "application/vnd.oci.image.manifest.v1+json",
      "digest": "${D('2')}",
      "size": 400,
      "annotations": {
        "a": "b"
      },
      "platform": {
        "architecture": "arm64",
        "os": "linux"
      }
    },
    {
      "mediaType": "application/vnd.oci.image.manifest.v1+json",
      "digest": "${D('3')}",
      "size": 400,
      "platform": {
        "architecture": "riscv64",
        "os": "linux"
      }
    }
  ]
}`);
    expect(combined.entries.map((e) => e.from.source.input)).toEqual(['r/x:1', `r/x@${D('2')}`, 'r/y:2']);
  });

  it('makes a Docker manifest list of Docker manifests only, and refuses to annotate one', () => {
    const sources = [fetched('r/a', image('1', 'amd64', MEDIA_TYPES.dockerManifest)), fetched('r/b', image('2', 'arm64', MEDIA_TYPES.dockerManifest))];
    expect(combineSources(sources, [], true).mediaType).toBe(MEDIA_TYPES.dockerManifestList);
    expect(() => combineSources(sources, parseIndexAnnotations(['index:k=v']), true)).toThrow(/Docker manifest list, which has no annotations/);
  });

  it('annotates the index and the entries of a platform', () => {
    const sources = [fetched('r/a', image('1', 'amd64')), fetched('r/b', { ...image('2', 'arm64'), platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } })];
    const combined = combineSources(sources, parseIndexAnnotations(['index:org.opencontainers.image.authors=me', 'manifest-descriptor[linux/arm64]:k=v', 'manifest-descriptor:all=1']), true);
    const doc = JSON.parse(Buffer.from(combined.bytes).toString()) as { annotations: object; manifests: { annotations: object }[] };
    expect(doc.annotations).toEqual({ 'org.opencontainers.image.authors': 'me' });
    expect(doc.manifests.map((m) => m.annotations)).toEqual([{ all: '1' }, { all: '1', k: 'v' }]);
  });

  it('keeps two different images of one platform in order, as buildx does', () => {
    const both = combineSources([fetched('r/a:1', image('1', 'amd64')), fetched('r/a:2', image('2', 'x86_64'))], [], true);
    const doc = JSON.parse(Buffer.from(both.bytes).toString()) as { manifests: { digest: string }[] };
    expect(doc.manifests.map((m) => m.digest)).toEqual([D('1'), D('2')]);
  });
});

describe('imagetools create: sources and annotations', () => {
  it('reads digests, references and descriptor JSON as buildx does', () => {
    expect(parseIndexSource(D('1')).given).toEqual({ digest: D('1') });
    expect(parseIndexSource('busybox').ref).toEqual({ registry: 'docker.io', repository: 'library/busybox', tag: 'latest' });
    const json = parseIndexSource(JSON.stringify({ mediaType: 'm', digest: D('1'), size: 3, platform: { os: 'linux', architecture: 'arm', variant: 'v7' }, extra: 1 }));
    expect(json.given).toEqual({ mediaType: 'm', digest: D('1'), size: 3, platform: { os: 'linux', architecture: 'arm', variant: 'v7' } });
    expect(() => parseIndexSource('sha256:abc')).toThrow(/invalid digest/);
    expect(() => parseIndexSource('{"schemaVersion":2,"digest":"x"}')).toThrow(/got a manifest or index \(schemaVersion 2\)/);
    expect(() => parseIndexSource('{"mediaType":"m"}')).toThrow(/digest is required/);
    expect(() => parseIndexSource('oci-layout://dir')).toThrow(/registries only/);
  });

  it('gives digest sources the one repository named, and refuses when several are', () => {
    const tags = [parseReference('host:5000/a/b:v1')];
    const sources = [parseIndexSource(D('1'))];
    assignRepositories(tags, sources);
    expect(sources[0]?.ref).toEqual({ registry: 'host:5000', repository: 'a/b', tag: 'v1' });
    expect(() => assignRepositories([...tags, parseReference('host:5000/other:v1')], [parseIndexSource(D('2'))])).toThrow(/name several repositories/);
    expect(() => assignRepositories([], [parseIndexSource(D('2'))])).toThrow(/no repository is named/);
  });

  it('takes index and manifest-descriptor annotations, and refuses the others with a reason', () => {
    expect(parseIndexAnnotations(['index,manifest-descriptor[linux/arm]:k=v=w'])).toEqual([
      { type: 'index', platform: undefined, key: 'k', value: 'v=w' },
      { type: 'manifest-descriptor', platform: { os: 'linux', architecture: 'arm', variant: 'v7' }, key: 'k', value: 'v=w' },
    ]);
    expect(() => parseIndexAnnotations(['k=v'])).toThrow(/annotates the index or its entries only/);
    expect(() => parseIndexAnnotations(['manifest:k=v'])).toThrow(/"manifest" annotations are not supported/);
    expect(() => parseIndexAnnotations(['index-descriptor:k=v'])).toThrow(/invalid while creating an image/);
    expect(() => parseIndexAnnotations(['bogus:k=v'])).toThrow(/unknown annotation type "bogus"/);
    expect(() => parseIndexAnnotations(['index:k'])).toThrow(/expected TYPE:KEY=VALUE/);
  });
});
