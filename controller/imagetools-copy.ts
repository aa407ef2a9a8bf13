import { mapLimit } from '../base/async.js';
import type { Digest } from '../base/digest.js';
import { InternalError, RegistryError } from '../base/errors.js';
import type { Descriptor } from '../base/oci.js';
import type { BlobOpener, PushProgress, Reference } from '../registry/index.js';
import { formatReference } from '../registry/index.js';
import { parseDocument } from './imagetools-inspect.js';
import { digestField, IMAGE_MEDIA_TYPES, INDEX_MEDIA_TYPES, isRecord, pinned, pushDocument, type ImagetoolsRegistry } from './imagetools-registry.js';

/** CopyOptions are how one copy reports and stops. */
export interface CopyOptions {
  readonly signal: AbortSignal;
  /** What happened to each blob: found in the target, mounted from the source repository, or uploaded. */
  readonly onProgress: (event: PushProgress) => void;
}

const CHILD_COPIES = 3;
const MAX_NESTING = 4;

/**
 * copyManifest makes a manifest or index of the source repository (and all it references) exist in the target
 * repository under its digest. Within one registry the blobs are mounted from the source repository
 * (`POST …/blobs/uploads/?mount=DIGEST&from=REPO`), never downloaded; from another registry they stream through.
 */
export async function copyManifest(registry: ImagetoolsRegistry, from: Reference, digest: Digest, to: Reference, options: CopyOptions): Promise<void> {
  await copyAt(registry, from, digest, to, { ...options, depth: 0 });
}

async function copyAt(registry: ImagetoolsRegistry, from: Reference, digest: Digest, to: Reference, o: CopyOptions & { depth: number }): Promise<void> {
  const { client } = registry;
  if (await hasManifest(registry, to, digest, o.signal)) return;
  const fetched = await client.fetchManifest(pinned(from, digest), o);
  const doc = parseDocument(from, fetched.bytes);
  const target = pinned(to, digest);
  if (INDEX_MEDIA_TYPES.has(fetched.mediaType)) {
    if (o.depth >= MAX_NESTING) throw new RegistryError(`Cannot copy "${formatReference(pinned(from, digest))}": indexes nest too deep`);
    const children = (Array.isArray(doc['manifests']) ? doc['manifests'] : []).map((m: unknown) => digestField(isRecord(m) ? m['digest'] : undefined));
    await mapLimit(children, CHILD_COPIES, async (child) => {
      if (child === undefined) throw new RegistryError(`Cannot copy "${formatReference(pinned(from, digest))}": an entry has no valid digest`);
      await copyAt(registry, from, child, to, { ...o, depth: o.depth + 1 });
    });
    await pushDocument(registry, target, fetched, { signal: o.signal });
    return;
  }
  const config = descriptorOf(doc['config']);
  const layers = (Array.isArray(doc['layers']) ? doc['layers'] : []).map(descriptorOf);
  if (!IMAGE_MEDIA_TYPES.has(fetched.mediaType) && !isRecord(doc['config'])) {
    throw new RegistryError(`Cannot copy "${formatReference(pinned(from, digest))}": unsupported manifest media type "${fetched.mediaType}"`);
  }
  if (config === undefined || layers.some((d) => d === undefined)) {
    throw new RegistryError(`Cannot copy "${formatReference(pinned(from, digest))}": the manifest has an invalid config or layer descriptor`);
  }
  const blobs = layers.filter((d): d is Descriptor => d !== undefined && isDistributable(d));
  // The source manifest proves its repository holds these blobs: the push mounts them from there.
  if (from.registry === to.registry) for (const d of [config, ...blobs]) await registry.locations.add(from.registry, d.digest, from.repository);
  const image = { manifest: fetched.bytes, manifestMediaType: fetched.mediaType, config, layers: blobs };
  await client.pushImage(target, image, streamFrom(registry, from, o.signal), { signal: o.signal, onProgress: o.onProgress });
}

/** hasManifest tells whether the target repository holds a manifest already (a copy is then done). */
async function hasManifest(registry: ImagetoolsRegistry, to: Reference, digest: Digest, signal: AbortSignal): Promise<boolean> {
  try {
    return (await registry.client.manifestDigest(pinned(to, digest), { signal })) === digest;
  } catch (err) {
    if (err instanceof RegistryError && err.code === 'REGISTRY_NOT_FOUND') return false;
    throw err;
  }
}

/** streamFrom reads a blob the target registry could neither find nor mount from the source, in one request. */
function streamFrom(registry: ImagetoolsRegistry, from: Reference, signal: AbortSignal): BlobOpener {
  return (d, range) => {
    // The imagetools client uploads each blob in one request (openImagetoolsRegistry), so it never asks for a range.
    if (range !== undefined) throw new InternalError(`Cannot stream a byte range of ${d.digest} from "${formatReference(from)}"`);
    return registry.client.fetchBlob(from, d, { signal });
  };
}

function descriptorOf(value: unknown): Descriptor | undefined {
  if (!isRecord(value)) return undefined;
  const digest = digestField(value['digest']);
  const size = value['size'];
  if (digest === undefined || typeof size !== 'number') return undefined;
  return { mediaType: typeof value['mediaType'] === 'string' ? value['mediaType'] : '', digest, size };
}

/** Foreign (non-distributable) layers stay where their URLs point, as registries and containerd leave them. */
function isDistributable(d: Descriptor): boolean {
  return !d.mediaType.includes('.foreign.') && !d.mediaType.includes('nondistributable');
}
