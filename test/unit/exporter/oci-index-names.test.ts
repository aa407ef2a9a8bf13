import { describe, expect, it } from 'vitest';
import { digestOf } from '../../../base/digest.js';
import { MEDIA_TYPES } from '../../../base/oci.js';
import type { BuiltImage } from '../../../exporter/index.js';
import { ociIndexFor } from '../../../exporter/lazy.js';

const MANIFEST = { mediaType: MEDIA_TYPES.ociManifest, digest: digestOf('manifest'), size: 100 };
const IMAGE = { manifestDescriptor: MANIFEST } as BuiltImage;
const PINNED = digestOf('pinned');

describe('index.json of an OCI export with several names', () => {
  it('lists the manifest once per name, with the full name and the reference name as containerd writes them', () => {
    const index = ociIndexFor(IMAGE, ['org/repo:tag1', 'org/repo', 'localhost:5000/x:y', `org/repo@${PINNED}`, `org/repo:v1@${PINNED}`]);
    expect(index.manifests.map((m) => m.digest)).toEqual(Array(5).fill(MANIFEST.digest));
    expect(index.manifests.map((m) => m.annotations)).toEqual([
      { 'io.containerd.image.name': 'docker.io/org/repo:tag1', 'org.opencontainers.image.ref.name': 'tag1' },
      { 'io.containerd.image.name': 'docker.io/org/repo:latest', 'org.opencontainers.image.ref.name': 'latest' },
      { 'io.containerd.image.name': 'localhost:5000/x:y', 'org.opencontainers.image.ref.name': 'y' },
      // containerd's reference name is what follows the repository: the digest keeps its @.
      { 'io.containerd.image.name': `docker.io/org/repo@${PINNED}`, 'org.opencontainers.image.ref.name': `@${PINNED}` },
      { 'io.containerd.image.name': `docker.io/org/repo:v1@${PINNED}`, 'org.opencontainers.image.ref.name': `v1@${PINNED}` },
    ]);
  });

  it('lists the manifest once, unnamed, without names', () => {
    expect(ociIndexFor(IMAGE, []).manifests).toEqual([MANIFEST]);
  });
});
