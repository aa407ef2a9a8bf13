import { isDigest, type Digest } from '../base/digest.js';
import { InternalError, UsageError } from '../base/errors.js';
import { MEDIA_TYPES } from '../base/oci.js';
import type { BlobLocations, DisposableRegistryClient, PushProgress, Reference } from '../registry/index.js';
import { createMemoryBlobLocations, loadRegistryConfig, parseReference } from '../registry/index.js';

/** ImagetoolsRegistry is the registry client of one `imagetools` command and where it has seen blobs. */
export interface ImagetoolsRegistry extends AsyncDisposable {
  readonly client: DisposableRegistryClient;
  readonly locations: BlobLocations;
}

/**
 * openImagetoolsRegistry makes a registry client with the settings file's mirrors, CAs and plain-HTTP hosts (none
 * without a file). Blobs copied between registries stream through in one request each: the client never asks for a
 * byte range, so nothing is kept on this machine.
 */
export async function openImagetoolsRegistry(options: { registryConfigPath?: string; dockerConfigDir?: string }): Promise<ImagetoolsRegistry> {
  const config = await loadRegistryConfig(options.registryConfigPath);
  // The client module (and undici) loads only for commands that talk to a registry.
  const { createRegistryClient } = await import('../registry/lazy.js');
  const locations = createMemoryBlobLocations();
  const client = createRegistryClient({
    config,
    blobLocations: locations,
    uploadChunkSize: Number.MAX_SAFE_INTEGER,
    ...(options.dockerConfigDir === undefined ? {} : { dockerConfigDir: options.dockerConfigDir }),
  });
  return { client, locations, [Symbol.asyncDispose]: () => client.close() };
}

/** INDEX_MEDIA_TYPES are the media types of image indexes and manifest lists. */
export const INDEX_MEDIA_TYPES: ReadonlySet<string> = new Set([MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifestList]);
/** IMAGE_MEDIA_TYPES are the media types of image manifests. */
export const IMAGE_MEDIA_TYPES: ReadonlySet<string> = new Set([MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest]);

/** parseImageName reads a registry reference as buildx's imagetools does; OCI layouts are not supported. */
export function parseImageName(input: string): Reference {
  if (input.startsWith('oci-layout://')) {
    throw new UsageError(`Cannot use "${input}": imagetools reads and writes registries only, not OCI layouts`);
  }
  return parseReference(input);
}

/** pinned names one document of a repository by digest, without a tag (a push then goes to the digest). */
export function pinned(ref: Reference, digest: Digest): Reference {
  return { registry: ref.registry, repository: ref.repository, digest };
}

/** digestField reads a digest field of parsed registry JSON (undefined when it is not one). */
export function digestField(value: unknown): Digest | undefined {
  return typeof value === 'string' && isDigest(value) ? value : undefined;
}

/** isRecord tells whether parsed registry JSON is an object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * pushDocument puts a manifest or index whose blobs and child manifests the repository holds already under the
 * reference's tag (or digest) and the extra tags.
 */
export async function pushDocument(
  registry: ImagetoolsRegistry,
  ref: Reference,
  document: { readonly bytes: Uint8Array; readonly mediaType: string },
  options: { signal: AbortSignal; tags?: readonly string[]; onProgress?: (event: PushProgress) => void },
): Promise<void> {
  const noBlobs = (): never => {
    throw new InternalError(`Cannot push "${ref.repository}": a document without blobs asked for one`);
  };
  await registry.client.pushImage(ref, { manifest: document.bytes, manifestMediaType: document.mediaType, config: undefined, layers: [] }, noBlobs, options);
}
