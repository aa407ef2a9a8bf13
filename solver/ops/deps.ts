import type { Digest } from '../../base/digest.js';
import type { CacheMountStore, ContentStore, LayerBlobStore, MetadataStore, Snapshotter } from '../../cache/index.js';
import type { Executor, NetworkMode } from '../../executor/index.js';
import type { RegistryClient } from '../../registry/index.js';
import type { CacheKeyStorage, SourcePin } from '../index.js';
import type { FailedExec } from './exec.js';
import type { ImageResolver } from './image-resolver.js';
import type { LayoutBlobs } from './layout-images.js';
import type { ContextWatches } from './context-reuse.js';
import type { LocalContext } from './ref.js';
import type { SecretProvider } from './secret-provider.js';
import type { SshAgentProvider } from './ssh-agent-provider.js';

/** OpDeps is everything op runners use, wired by the controller. */
export interface OpDeps {
  readonly meta: MetadataStore;
  /** Results by cache key (and unpacked layers by chain): op code records and finds results only through it. */
  readonly cacheKeys: CacheKeyStorage;
  readonly content: ContentStore;
  readonly snapshotter: Snapshotter;
  readonly layerBlobs: LayerBlobStore;
  /** The executor is made on first use, so cached builds never load it. */
  readonly executor: () => Promise<Executor>;
  /** The registry client is made on first use, so builds served from the store never load it. */
  readonly registry: () => Promise<RegistryClient>;
  readonly images: ImageResolver;
  /** The client's OCI layouts images are read from (`--build-context NAME=oci-layout://…`), by name. */
  readonly layouts?: ReadonlyMap<string, LayoutBlobs>;
  readonly contexts: ReadonlyMap<string, LocalContext>;
  /** The watches of context folders a resident builder keeps: a context checksum is reused while nothing changed. */
  readonly contextWatches?: ContextWatches;
  /** Compiles COPY --exclude patterns (.dockerignore syntax); a simple glob matcher is used when absent. */
  readonly excludeMatcher?: (patterns: readonly string[]) => (relPath: string) => boolean;
  /** RUN --mount=type=cache directories. */
  readonly cacheMounts?: CacheMountStore;
  /** Build secrets by id; values are read only when a RUN mounts them. */
  readonly secrets?: SecretProvider;
  /** SSH agents by id; a socket is opened only when a RUN mounts it. */
  readonly sshAgents?: SshAgentProvider;
  /** Environment variables of the host processes a build runs for its caller (git); none when absent. */
  readonly processEnv?: Readonly<Record<string, string>>;
  /** Network of RUNs that ask for `default`. */
  readonly network?: NetworkMode;
  /** Told of each snapshot a vertex made, once its cache record is written (e.g. to start digesting it as a layer). */
  readonly snapshotCommitted?: (vertexDigest: string, snapshotId: string) => void;
  /** Told what each source resolved to when it was keyed (a commit, a download's digest …), e.g. for the build's provenance. */
  readonly sourcePinned?: (vertexDigest: string, pin: SourcePin) => void;
  /** Told the files a context checksum covered (its lines), for the build history to say later which changed. */
  readonly contextListed?: (checksum: Digest, lines: readonly string[]) => void;
  /**
   * Offered each RUN whose process failed, as it ended (for a debug shell): true takes it, and the receiver disposes
   * it; false (or no receiver) releases it at once.
   */
  readonly keepFailedExec?: (failed: FailedExec) => boolean;
}
