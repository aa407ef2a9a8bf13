import { readFile } from 'node:fs/promises';
import { parseDigest } from '../base/digest.js';
import { RegistryError, UsageError } from '../base/errors.js';
import type { ImageConfig, ImageManifest } from '../base/oci.js';
import { formatReference, parseReference } from '../registry/index.js';
import type { Store } from './store.js';
import { imageParts } from '../cache/index.js';
import { imageIdOf, isDangling } from './image-naming.js';

/** ImageSummary is one name in the local image store, or one image without a name, as `tbuild images` lists it. */
export interface ImageSummary {
  /** The full name (docker.io/library/x:latest); undefined for a dangling image (`<none>`). */
  readonly name: string | undefined;
  /** The image ID: the digest of its config, or of its image index for an image of several platforms. */
  readonly id: string;
  readonly configDigest: string;
  /** The digest of its image manifest, or of its image index. */
  readonly manifestDigest: string;
  /** When the image was stored (milliseconds since 1970). */
  readonly createdAt: number;
  /** When the image says it was made (its config's `created`, milliseconds since 1970), as Docker dates images; else createdAt. */
  readonly created: number;
  /** The image's labels (of its first platform's config). */
  readonly labels: Readonly<Record<string, string>>;
  /** Sum of the layer sizes the manifest lists. */
  readonly size: number;
}

/** listImages lists the local image store, newest first (by the images' own creation time, as docker images sorts). */
export async function listImages(store: Store): Promise<ImageSummary[]> {
  const records = [...store.meta.images.getRange()].map((e) => e.value).sort((a, b) => b.createdAt - a.createdAt);
  const out: ImageSummary[] = [];
  for (const rec of records) {
    const config = JSON.parse(await readFile(store.content.blobPath(parseDigest(rec.configDigest)), 'utf8')) as ImageConfig;
    const created = config.created === undefined ? Number.NaN : Date.parse(config.created);
    let size = 0;
    // An image of several platforms counts the layers of each platform's image.
    for (const part of imageParts(rec)) {
      const manifest = JSON.parse(await readFile(store.content.blobPath(parseDigest(part.manifestDigest)), 'utf8')) as ImageManifest;
      size += manifest.layers.reduce((n, l) => n + l.size, 0);
    }
    out.push({
      name: isDangling(rec) ? undefined : rec.name,
      id: imageIdOf(rec),
      configDigest: rec.configDigest,
      manifestDigest: rec.manifestDigest,
      createdAt: rec.createdAt,
      created: Number.isNaN(created) ? rec.createdAt : created,
      labels: config.config?.Labels ?? {},
      size,
    });
  }
  // Stable: images made at the same time stay newest stored first.
  return out.sort((a, b) => b.created - a.created);
}

/** RemovedImage is what removing one argument did: the names it untagged and the images left with no name. */
export interface RemovedImage {
  readonly untagged: readonly string[];
  readonly deleted: readonly string[];
}

const ID_PREFIX = /^(?:sha256:)?([0-9a-f]{4,64})$/;

/**
 * removeImages removes names from the local image store, as `docker rmi` does: an argument is a name (untagged alone)
 * or an image ID or its prefix (every name of that image, which needs `force` when there are several). An image
 * with no name left keeps nothing alive: prune and automatic collection free its layers.
 */
export async function removeImages(store: Store, args: readonly string[], options: { readonly force: boolean }): Promise<RemovedImage[]> {
  const out: RemovedImage[] = [];
  for (const arg of args) {
    const names = namesFor(store, arg, options.force);
    const ids = new Set<string>();
    for (const name of names) {
      const rec = store.meta.images.get(name);
      if (rec === undefined) continue;
      ids.add(imageIdOf(rec));
      await store.meta.images.remove(name);
    }
    const left = new Set([...store.meta.images.getRange()].map((e) => imageIdOf(e.value)));
    out.push({ untagged: names.filter((n) => !n.startsWith('sha256:')), deleted: [...ids].filter((id) => !left.has(id)) });
  }
  return out;
}

function namesFor(store: Store, arg: string, force: boolean): string[] {
  const byName = nameOf(arg);
  if (byName !== undefined && store.meta.images.get(byName) !== undefined) return [byName];
  const id = ID_PREFIX.exec(arg)?.[1];
  if (id !== undefined) {
    const matches = [...store.meta.images.getRange()].map((e) => e.value).filter((r) => imageIdOf(r).slice('sha256:'.length).startsWith(id));
    const images = new Set(matches.map(imageIdOf));
    if (images.size > 1) throw new UsageError(`Cannot remove "${arg}": the prefix names ${images.size} images`, { hint: 'give more of the image ID' });
    if (matches.length > 1 && !force) {
      throw new UsageError(`Cannot remove image ${arg}: it is named ${matches.map((r) => r.name).join(', ')}`, { hint: 'remove the names one by one, or use --force' });
    }
    if (matches.length > 0) return matches.map((r) => r.name);
  }
  throw new UsageError(`No such image: ${arg}`, { hint: "'tbuild images' lists the local image store" });
}

/** nameOf normalises a name as the image store keeps it (docker.io/library/x:latest), or undefined if it is none. */
function nameOf(arg: string): string | undefined {
  try {
    return formatReference(parseReference(arg));
  } catch (err) {
    // Not a name (an image ID, say): the caller tries the other readings.
    if (err instanceof RegistryError && err.code === 'REFERENCE_INVALID') return undefined;
    throw err;
  }
}
