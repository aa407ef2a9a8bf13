import type { Digest } from '../base/digest.js';

/** BlobLocations remembers which repositories of a registry hold a blob, so a push can mount it instead of uploading. */
export interface BlobLocations {
  repositoriesOf(registry: string, digest: Digest): Promise<readonly string[]>;
  add(registry: string, digest: Digest, repository: string): Promise<void>;
}

const MAX_PER_BLOB = 8;

/** createMemoryBlobLocations keeps blob locations for the life of one client. */
export function createMemoryBlobLocations(): BlobLocations {
  const byKey = new Map<string, string[]>();
  return {
    repositoriesOf: (registry, digest) => Promise.resolve([...(byKey.get(`${registry}\0${digest}`) ?? [])]),
    add(registry, digest, repository) {
      const key = `${registry}\0${digest}`;
      const list = (byKey.get(key) ?? []).filter((r) => r !== repository);
      // Most recent first: it is the likeliest to still exist.
      byKey.set(key, [repository, ...list].slice(0, MAX_PER_BLOB));
      return Promise.resolve();
    },
  };
}
