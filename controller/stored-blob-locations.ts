import type { Digest } from '../base/digest.js';
import type { MetadataStore } from '../cache/index.js';
import type { BlobLocations } from '../registry/index.js';

const MAX_PER_BLOB = 8;

/**
 * createStoredBlobLocations keeps blob locations in the store's database, so a push mounts a blob that an earlier
 * build pulled or pushed elsewhere on the same registry instead of uploading it again.
 */
export function createStoredBlobLocations(meta: MetadataStore): BlobLocations {
  return {
    repositoriesOf: (registry, digest) => Promise.resolve([...(meta.blobLocations.get(locationKey(registry, digest))?.repositories ?? [])]),
    async add(registry, digest, repository) {
      const key = locationKey(registry, digest);
      const seen = meta.blobLocations.get(key)?.repositories ?? [];
      if (seen[0] === repository) return;
      // Most recent first: it is the likeliest to still exist.
      await meta.blobLocations.put(key, { repositories: [repository, ...seen.filter((r) => r !== repository)].slice(0, MAX_PER_BLOB) });
    },
  };
}

/** locationKey is the record key of a blob on one registry (a host never holds a space). */
export function locationKey(registry: string, digest: Digest): string {
  return `${registry} ${digest}`;
}
