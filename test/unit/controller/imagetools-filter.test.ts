import { describe, expect, it } from 'vitest';
import { parseDigest } from '../../../base/digest.js';
import { MEDIA_TYPES } from '../../../base/oci.js';
import { combineSources, type FetchedSource } from '../../../controller/imagetools-combine.js';
import { filterPlatforms } from '../../../controller/imagetools-filter.js';
import { parseIndexSource, type IndexEntry } from '../../../controller/imagetools-sources.js';

const D = (c: string) => parseDigest(`sha256:${c.repeat(64)}`);
const image = (c: string, architecture: string, variant?: string): IndexEntry => ({
  mediaType: MEDIA_TYPES.ociManifest,
  digest: D(c),
  size: 400,
  platform: { os: 'linux', architecture, ...(variant === undefined ? {} : { variant }) },
});
const attestation = (c: string, subject: string): IndexEntry => ({
  mediaType: MEDIA_TYPES.ociManifest,
  digest: D(c),
  size: 300,
  platform: { os: 'unknown', architecture: 'unknown' },
  annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': D(subject) },
});
const noPlatform: IndexEntry = { mediaType: MEDIA_TYPES.ociManifest, digest: D('9'), size: 100 };

/** indexSource is a registry index holding entries, as fetchSource reads it. */
function indexSource(entries: IndexEntry[]): FetchedSource {
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: entries, annotations: { keep: 'me' } }));
  return { source: parseIndexSource('r/x:1'), entry: { mediaType: MEDIA_TYPES.ociIndex, digest: D('f'), size: bytes.length }, bytes, children: entries };
}
const linux = (architecture: string, variant?: string) => ({ os: 'linux', architecture, ...(variant === undefined ? {} : { variant }) });

describe('imagetools create --platform', () => {
  const entries = [image('1', 'amd64'), image('2', 'arm64', 'v8'), image('3', 'arm', 'v7'), attestation('a', '1'), attestation('b', '2'), noPlatform];
  const combined = combineSources([indexSource(entries)], [], true);

  it('keeps the platforms asked for, their attestation manifests and entries without a platform, in index order', () => {
    const filtered = filterPlatforms(combined, [linux('arm64')]);
    const doc = JSON.parse(Buffer.from(filtered.bytes).toString()) as { manifests: IndexEntry[]; annotations: Record<string, string> };
    expect(doc.manifests.map((m) => m.digest)).toEqual([D('2'), D('b'), D('9')]);
    expect(doc.annotations).toEqual({ keep: 'me' });
    expect(filtered.entries.map((e) => e.entry.digest)).toEqual([D('2'), D('b'), D('9')]);
    expect(filtered.digest).not.toBe(combined.digest);
    expect(filtered.mediaType).toBe(MEDIA_TYPES.ociIndex);
  });

  it('matches platforms normalized as containerd does, several at once', () => {
    const filtered = filterPlatforms(combined, [linux('aarch64'), linux('arm')]);
    expect(filtered.entries.map((e) => e.entry.digest)).toEqual([D('2'), D('3'), D('b'), D('9')]);
  });

  it('leaves an index untouched, byte for byte, when every entry is kept, and without --platform', () => {
    expect(filterPlatforms(combined, [])).toBe(combined);
    const two = combineSources([indexSource([image('1', 'amd64'), image('2', 'arm64')])], [], true);
    expect(filterPlatforms(two, [linux('amd64'), linux('arm64')])).toBe(two);
  });

  it('refuses a filter that keeps no image, naming the platforms', () => {
    const images = combineSources([indexSource([image('1', 'amd64'), image('2', 'arm64')])], [], true);
    expect(() => filterPlatforms(images, [linux('riscv64')])).toThrow(/none of its images is for --platform linux\/riscv64/);
  });

  it('keeps a single image of a platform asked for, and refuses one of another', () => {
    const one: FetchedSource = { source: parseIndexSource('r/x:2'), entry: image('4', 'amd64'), bytes: Buffer.from('{}'), children: [] };
    const manifest = combineSources([one], [], false);
    expect(filterPlatforms(manifest, [linux('amd64')])).toBe(manifest);
    expect(() => filterPlatforms(manifest, [linux('arm64')])).toThrow(/its platform linux\/amd64 is not one of --platform linux\/arm64/);
  });
});
