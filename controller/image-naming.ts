import { canonicalJson } from '../base/canonical-json.js';
import type { ImageRecord } from '../cache/index.js';
import type { Reference } from '../registry/index.js';
import type { Store } from './store.js';

/** StoredImage is an image record without its name: what naming it (or leaving it dangling) stores. */
export type StoredImage = Omit<ImageRecord, 'name'>;

/**
 * imageIdOf is the ID of a stored image: the digest of its config, as the Docker Engine names images; for an image of
 * several platforms, the digest of its image index, as Docker's containerd image store names every image.
 */
export function imageIdOf(rec: StoredImage): string {
  return rec.platforms === undefined ? rec.configDigest : rec.manifestDigest;
}

/**
 * isDangling tells whether a record is an image without a name: such a record is kept under its image ID, which no
 * name can be (names are stored fully qualified, `docker.io/library/x:latest`).
 */
export function isDangling(rec: ImageRecord): boolean {
  return rec.name.startsWith('sha256:');
}

/**
 * nameImage stores an image under names, as the Docker Engine tags one. Without names it stays in the store as a
 * dangling image, under its ID, unless a name holds it already. A name that held another image moves; that image,
 * left with no name, stays dangling (`<none>`), as Docker keeps an image a rebuild took the tag from. A dangling
 * record of the image itself goes once a name holds it.
 */
export async function nameImage(store: Pick<Store, 'meta'>, stored: StoredImage, names: readonly string[]): Promise<void> {
  const id = imageIdOf(stored);
  const all = (): ImageRecord[] => [...store.meta.images.getRange()].map((e) => e.value);
  // The image keeps where it was pushed when it is named again (a rebuild making the same image, a new tag).
  const pushed = [...new Set([...(stored.repoDigests ?? []), ...all().filter((r) => imageIdOf(r) === id).flatMap((r) => r.repoDigests ?? [])])];
  const image = pushed.length === 0 ? stored : { ...stored, repoDigests: pushed };
  if (names.length === 0) {
    if (!all().some((r) => imageIdOf(r) === id)) await store.meta.images.put(id, { ...image, name: id });
    return;
  }
  for (const name of names) {
    const previous = store.meta.images.get(name);
    // A rebuild that makes the same image leaves its record as it was (Docker keeps an image's date too): no commit.
    if (previous === undefined || !sameRecord(previous, { ...image, name })) await store.meta.images.put(name, { ...image, name });
    if (previous === undefined || imageIdOf(previous) === id || isDangling(previous)) continue;
    const oldId = imageIdOf(previous);
    if (!all().some((r) => imageIdOf(r) === oldId)) await store.meta.images.put(oldId, { ...previous, name: oldId });
  }
  if (store.meta.images.get(id) !== undefined) await store.meta.images.remove(id);
}

/** sameRecord tells whether two records name the same image the same way, whenever each was stored. */
function sameRecord(a: ImageRecord, b: ImageRecord): boolean {
  return canonicalJson({ ...a, createdAt: 0 }) === canonicalJson({ ...b, createdAt: 0 });
}

/**
 * recordRepoDigest remembers that an image went to a repository under a digest (`REGISTRY/REPOSITORY@sha256:…`, as
 * Docker's RepoDigests), on every record of the image so that each of its names shows it.
 */
export async function recordRepoDigest(store: Store, id: string, pushed: { readonly ref: Pick<Reference, 'registry' | 'repository'>; readonly digest: string }): Promise<void> {
  const repoDigest = `${pushed.ref.registry}/${pushed.ref.repository}@${pushed.digest}`;
  for (const { value: rec } of [...store.meta.images.getRange()]) {
    if (imageIdOf(rec) !== id || (rec.repoDigests ?? []).includes(repoDigest)) continue;
    await store.meta.images.put(rec.name, { ...rec, repoDigests: [...(rec.repoDigests ?? []), repoDigest] });
  }
}
