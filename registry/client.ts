import type { Digest } from '../base/digest.js';
import { RegistryError } from '../base/errors.js';
import type { Descriptor, Platform } from '../base/oci.js';
import { Authorizer, pullScope } from './auth.js';
import type { RegistryConfig } from './config.js';
import { loadDockerCredentials, type CredentialStore } from './credentials.js';
import { EndpointResolver, type Endpoint } from './endpoints.js';
import { createMemoryBlobLocations, type BlobLocations } from './blob-locations.js';
import { limitToDeclaredSize } from './declared-size.js';
import { PUSH_CONCURRENCY, pushToEndpoint, type BlobOpener, type PushImage, type PushProgress } from './push.js';
import { formatReference, type Reference } from './reference.js';
import { referrersFromEndpoint } from './referrers.js';
import { fetchManifestFromEndpoint, manifestDigestFromEndpoint, resolveFromEndpoint, type FetchedManifest, type ResolvedImage } from './resolve.js';
import { responseError, Transport, type Operation } from './transport.js';

/** RegistryClientOptions configure a registry client. */
export interface RegistryClientOptions {
  readonly config: RegistryConfig;
  /** Directory holding Docker's config.json (default `$DOCKER_CONFIG` or `~/.docker`). */
  readonly dockerConfigDir?: string;
  /** Credentials to use instead of Docker's config.json. */
  readonly credentials?: CredentialStore;
  /** Where blobs were seen, for cross-repository mounts (default: remembered by this client only). */
  readonly blobLocations?: BlobLocations;
  /** Blobs above this size upload in chunks of it (default 16 MiB). */
  readonly uploadChunkSize?: number;
  /** Blobs uploaded at once per image (default PUSH_CONCURRENCY). */
  readonly pushConcurrency?: number;
}

const DEFAULT_CHUNK_SIZE = 16 * 1024 * 1024;

/** PushOptions control one image push. */
export interface PushOptions {
  readonly signal: AbortSignal;
  readonly onProgress?: (event: PushProgress) => void;
  /** More tags of the same repository that get the manifest too. */
  readonly tags?: readonly string[];
}

/** ReferrerDescriptor is one manifest a referrers index lists: its descriptor and artifact type. */
export type ReferrerDescriptor = Descriptor & { readonly artifactType?: string };

/** RegistryClient reads images from and writes images to OCI distribution registries. */
export interface RegistryClient {
  /** resolveImage pins a reference to the manifest and config for a platform (indexes and manifest lists included). */
  resolveImage(ref: Reference, options: { platform: Platform; signal: AbortSignal }): Promise<ResolvedImage>;
  /** manifestDigest tells which document a reference names now (a HEAD request; a GET when the registry gives no digest). */
  manifestDigest(ref: Reference, options: { signal: AbortSignal }): Promise<Digest>;
  /** fetchManifest fetches the manifest or index a reference names as it is (no platform choice), digest-checked. */
  fetchManifest(ref: Reference, options: { signal: AbortSignal }): Promise<FetchedManifest>;
  /** fetchBlob streams a blob's raw bytes; the caller verifies the digest while storing. */
  fetchBlob(ref: Reference, descriptor: Descriptor, options: { signal: AbortSignal }): Promise<NodeJS.ReadableStream>;
  /** pushImage uploads missing blobs and puts the manifest under the reference's tag (or digest). */
  pushImage(ref: Reference, image: PushImage, blobs: BlobOpener, options: PushOptions): Promise<{ digest: Digest }>;
  /**
   * referrers lists the manifests that name `digest` as their subject through the OCI referrers API of the reference's
   * registry (not a mirror); undefined when the registry has no such API.
   */
  referrers(ref: Reference, digest: Digest, options: { signal: AbortSignal }): Promise<readonly ReferrerDescriptor[] | undefined>;
}

/** DisposableRegistryClient is a RegistryClient that owns connection pools. */
export interface DisposableRegistryClient extends RegistryClient, AsyncDisposable {
  close(): Promise<void>;
}

/** createRegistryClient makes a client over undici that honours mirrors, plain-HTTP rules and Docker credentials. */
export function createRegistryClient(options: RegistryClientOptions): DisposableRegistryClient {
  const endpoints = new EndpointResolver(options.config);
  const locations = options.blobLocations ?? createMemoryBlobLocations();
  let credentials: Promise<CredentialStore> | undefined;
  const loadCredentials = (): Promise<CredentialStore> =>
    (credentials ??= options.credentials ? Promise.resolve(options.credentials) : loadDockerCredentials(options.dockerConfigDir));
  let transport: Promise<Transport> | undefined;
  const getTransport = (): Promise<Transport> => (transport ??= loadCredentials().then((c) => new Transport(new Authorizer(c))));

  /** Tries each endpoint in order; a mirror's failure falls through to the next, the origin's is final. */
  async function withEndpoints<T>(
    ref: Reference,
    o: { pull: boolean; signal: AbortSignal },
    fn: (endpoint: Endpoint, credentialsHost: string, t: Transport) => Promise<T>,
  ): Promise<T> {
    const t = await getTransport();
    const list = await endpoints.endpoints(ref.registry, { pull: o.pull });
    const mirrorFailures: string[] = [];
    for (const endpoint of list) {
      try {
        return await fn(endpoint, endpoint.mirror ? endpoint.host : ref.registry, t);
      } catch (err) {
        if (o.signal.aborted) throw o.signal.reason;
        if (!(err instanceof RegistryError)) throw err;
        if (!endpoint.mirror) throw withMirrorFailures(err, mirrorFailures);
        mirrorFailures.push(mirrorFailure(endpoint.host, err));
      }
    }
    throw new RegistryError(`Cannot reach registry for "${formatReference(ref)}": no endpoint`, { ref: formatReference(ref) });
  }

  return {
    resolveImage(ref, { platform, signal }) {
      const operation: Operation = { action: 'Cannot resolve image', ref: formatReference(ref) };
      return withEndpoints(ref, { pull: true, signal }, (endpoint, credentialsHost, t) =>
        resolveFromEndpoint({ transport: t, endpoint, credentialsHost, operation, signal }, ref, platform),
      );
    },
    manifestDigest(ref, { signal }) {
      const operation: Operation = { action: 'Cannot check image', ref: formatReference(ref) };
      return withEndpoints(ref, { pull: true, signal }, (endpoint, credentialsHost, t) =>
        manifestDigestFromEndpoint({ transport: t, endpoint, credentialsHost, operation, signal }, ref),
      );
    },
    fetchManifest(ref, { signal }) {
      const operation: Operation = { action: 'Cannot fetch manifest', ref: formatReference(ref) };
      return withEndpoints(ref, { pull: true, signal }, (endpoint, credentialsHost, t) =>
        fetchManifestFromEndpoint({ transport: t, endpoint, credentialsHost, operation, signal }, ref),
      );
    },
    fetchBlob(ref, descriptor, { signal }) {
      const operation: Operation = { action: 'Cannot fetch blob', ref: `${ref.registry}/${ref.repository}@${descriptor.digest}` };
      return withEndpoints(ref, { pull: true, signal }, async (endpoint, credentialsHost, t) => {
        const res = await t.send({
          method: 'GET',
          endpoint,
          credentialsHost,
          url: `/v2/${ref.repository}/blobs/${descriptor.digest}`,
          scope: pullScope(ref.repository),
          operation,
          signal,
        });
        if (res.statusCode !== 200) throw await responseError(operation, res);
        if (!endpoint.mirror) await locations.add(ref.registry, descriptor.digest, ref.repository);
        return limitToDeclaredSize(res.body, descriptor, `${ref.registry}/${ref.repository}`);
      });
    },
    pushImage(ref, image, blobs, { signal, onProgress, tags }) {
      const operation: Operation = { action: 'Cannot push image', ref: formatReference(ref) };
      const chunkSize = options.uploadChunkSize ?? DEFAULT_CHUNK_SIZE;
      const concurrency = options.pushConcurrency ?? PUSH_CONCURRENCY;
      return withEndpoints(ref, { pull: false, signal }, (endpoint, credentialsHost, t) =>
        pushToEndpoint(
          { transport: t, endpoint, credentialsHost, operation, signal, onProgress, locations, chunkSize, concurrency },
          ref,
          image,
          blobs,
          tags,
        ),
      );
    },
    referrers(ref, digest, { signal }) {
      const operation: Operation = { action: 'Cannot list referrers of', ref: `${formatReference(ref)}@${digest}` };
      return withEndpoints(ref, { pull: false, signal }, (endpoint, credentialsHost, t) =>
        referrersFromEndpoint({ transport: t, endpoint, credentialsHost, operation, signal }, ref, digest),
      );
    },
    close: () => endpoints.close(),
    [Symbol.asyncDispose]: () => endpoints.close(),
  };
}

/** mirrorFailure says in a few words what a mirror answered: `mirror 127.0.0.1:5000 answered 404: manifest unknown`. */
function mirrorFailure(host: string, err: RegistryError): string {
  const colon = err.message.lastIndexOf(': ');
  const reason = colon < 0 ? err.message : err.message.slice(colon + 2);
  return `mirror ${host} ${err.status === undefined ? 'failed' : `answered ${err.status}`}: ${reason}`;
}

/**
 * withMirrorFailures adds what the mirrors answered to the origin's error, so that a user whose mirror lacks an image
 * reads that, not only that the origin (perhaps out of reach on purpose) failed.
 */
function withMirrorFailures(err: RegistryError, failures: readonly string[]): RegistryError {
  if (failures.length === 0) return err;
  const hint = [`before the origin, ${failures.join('; ')}`, ...(err.hint === undefined ? [] : [err.hint])].join('; ');
  return new RegistryError(err.message, { code: err.code, ...(err.ref === undefined ? {} : { ref: err.ref }), ...(err.status === undefined ? {} : { status: err.status }), cause: err.cause, hint });
}
