import type { Readable, Writable } from 'node:stream';
import type { Platform } from '../base/oci.js';
import type { Digest } from '../base/digest.js';
import type { RunResources } from '../solver/graph/index.js';

/** Compression is how layer blobs are compressed on export. */
export type LayerCompression = 'gzip' | 'zstd' | 'uncompressed';

/** ExportOptions are the options every image output shares. */
export interface ImageExportOptions {
  readonly compression: LayerCompression;
  readonly compressionLevel?: number;
  readonly forceCompression: boolean;
  /** `annotation.KEY` / `annotation-manifest.KEY` (manifest) and `annotation-index.KEY` (OCI layout index) attributes. */
  readonly annotations?: { readonly manifest: Readonly<Record<string, string>>; readonly index: Readonly<Record<string, string>> };
  /**
   * `rewrite-timestamp`: clamp the file times later than the epoch in each layer above the base image's, and mark those
   * layers (`buildkit/rewritten-timestamp`). Without it the epoch dates the image only, as in BuildKit.
   */
  readonly rewriteTimestamp?: boolean;
  /** `source-date-epoch`: this export's epoch (seconds) instead of the build's; null when given empty, for none. */
  readonly sourceDateEpoch?: number | null;
  /** `oci-artifact`: attestation manifests in OCI artifact form with a subject (default), or as images of an unknown platform. */
  readonly ociArtifact?: boolean;
  /**
   * `attestation-referrers`: also make a pushed image's attestations known through the OCI referrers API, or on a
   * registry without it through the `sha256-DIGEST` tag that lists an image's referrers.
   */
  readonly referrers?: boolean;
  /**
   * `oci-mediatypes=false`: Docker schema 2 media types (manifest, config, layers, manifest list) instead of OCI ones,
   * as BuildKit writes them; such an image takes no attestations and no index annotations.
   */
  readonly ociMediaTypes?: boolean;
}

/**
 * OutputDest is where an archive output goes: a file path (written aside and renamed into place) or a stream the
 * caller owns (standard output for `-`), which the export ends once the archive is written.
 */
export type OutputDest = string | Writable;

/** OutputSpec is one `--output`: where the result of a build goes. */
export type OutputSpec =
  | {
      readonly type: 'image';
      readonly names: readonly string[];
      readonly push: boolean;
      readonly image: ImageExportOptions;
      /** `push-by-digest=true`: push the image by its digest only, leaving every tag of the repositories as it was. */
      readonly pushByDigest?: boolean;
      /** `name-canonical=true`: also keep the image in the local store under each `NAME@DIGEST`. */
      readonly nameCanonical?: boolean;
    }
  | {
      readonly type: 'oci' | 'docker';
      readonly dest: OutputDest;
      readonly names: readonly string[];
      readonly image: ImageExportOptions;
      /** `tar=false`: write the image layout into the folder `dest` instead of a tar archive. */
      readonly tar?: boolean;
    }
  | { readonly type: 'load'; readonly names: readonly string[]; readonly image: ImageExportOptions }
  | {
      readonly type: 'tar';
      readonly dest: OutputDest;
      /** `source-date-epoch`: the time every file is given (seconds) instead of the build's epoch; null when given empty, for none. */
      readonly sourceDateEpoch?: number | null;
      /** `platform-split`: each platform's files in a folder of its own; when unset, only with several platforms. */
      readonly platformSplit?: boolean;
    }
  | {
      readonly type: 'local';
      readonly dest: string;
      /** `source-date-epoch`: the time every file is given (seconds) instead of the build's epoch; null when given empty, for none. */
      readonly sourceDateEpoch?: number | null;
      /** `platform-split`: each platform's files in a folder of its own; when unset, only with several platforms. */
      readonly platformSplit?: boolean;
    };

/** CacheImportSpec is one `--cache-from`: a registry reference (a cache or an image with an inline cache) or a layout folder. */
export type CacheImportSpec = { readonly type: 'registry'; readonly ref: string } | { readonly type: 'local'; readonly src: string };

/** CacheExportSpec is one `--cache-to`: min exports the final image's records, max every vertex's. */
export type CacheExportSpec =
  | {
      readonly type: 'registry' | 'local';
      /** A registry reference (registry) or a folder (local). */
      readonly target: string;
      readonly mode: 'min' | 'max';
      readonly compression: LayerCompression;
      /** An OCI image manifest whose config is the cache config, instead of an index listing it. */
      readonly imageManifest: boolean;
      /** OCI media types (true) or Docker's (a manifest list and Docker layer types). */
      readonly ociMediaTypes: boolean;
      /** A failed export is a warning instead of a failed build. */
      readonly ignoreError: boolean;
    }
  | { readonly type: 'inline' };

/** ContextOrigin is the URL a context was fetched from: a git repository at a commit, or a download by its digest. */
export type ContextOrigin = { readonly type: 'git'; readonly url: string; readonly commit: string } | { readonly type: 'http'; readonly url: string; readonly digest: string };

/** BuildContextSpec is one `--build-context name=path|docker-image://ref|oci-layout://path|URL` (a git repository or an HTTP download). */
export type BuildContextSpec =
  | { readonly name: string; readonly type: 'local'; readonly path: string }
  | { readonly name: string; readonly type: 'image'; readonly ref: string }
  | { readonly name: string; readonly type: 'url'; readonly url: string }
  /** An image of an OCI layout folder of the client, by tag (default `latest`) or digest, as buildx reads one. */
  | { readonly name: string; readonly type: 'oci-layout'; readonly path: string; readonly tag?: string; readonly digest?: Digest };

/**
 * DockerfileSource is the Dockerfile of a build: its bytes, with the name errors show and the ignore file found beside
 * it (`Dockerfile.dockerignore`, which replaces the context's `.dockerignore`); or the path of a file inside a context
 * that arrives whole (an archive or a URL), `null` for its `Dockerfile`.
 */
export type DockerfileSource = DockerfileBytes | { readonly inContext: string | null };

/** DockerfileBytes is a Dockerfile given as bytes. */
export interface DockerfileBytes {
  /** The file name errors and warnings show (`Dockerfile`). */
  readonly name: string;
  readonly bytes: Uint8Array;
  /** The ignore text the context is filtered with, instead of the context's own `.dockerignore`. */
  readonly ignore?: string;
}

/**
 * ContextSource is where a build's context comes from: a folder; an archive stream (`tbuild build -`: a tar archive in
 * any compression, or else the Dockerfile itself with an empty context); a git repository or http(s) URL; a receiver
 * that brings a copy up to date (a remote client's context); or nothing (an empty context).
 */
export type ContextSource =
  | { readonly kind: 'folder'; readonly dir: string }
  | { readonly kind: 'archive'; readonly stream: Readable }
  | { readonly kind: 'url'; readonly url: string }
  | { readonly kind: 'receiver'; readonly receive: (options: { readonly signal: AbortSignal }) => Promise<ReceivedContext> }
  | { readonly kind: 'none' };

/** ReceivedContext is a context folder a receiver made ready; disposing it lets the receiver change the folder again. */
export interface ReceivedContext extends AsyncDisposable {
  readonly dir: string;
  /** When the context was last changed (seconds since 1970), when its sender fetched it from a URL that tells. */
  readonly sourceDate?: number;
  /** The URL its sender fetched the context from, and what it resolved to, which the provenance records. */
  readonly origin?: ContextOrigin;
}

/**
 * BuildEnvironment is what a build takes from its caller's environment, given as values: the controller never reads
 * its own process's environment, working folder or umask.
 */
export interface BuildEnvironment {
  /** SOURCE_DATE_EPOCH of the caller: the build arg of that name unless the request sets one, as buildx does. */
  readonly sourceDateEpoch?: string;
  /** SSH_AUTH_SOCK of the caller: the agent of `--ssh` ids given without sockets or keys. */
  readonly sshAuthSock?: string;
  /** Folder of the caller's Docker config.json, with registry credentials (DOCKER_CONFIG or ~/.docker). */
  readonly dockerConfigDir?: string;
  /** DOCKER_HOST of the caller: the engine `--load` sends the image to (default unix:///var/run/docker.sock). */
  readonly dockerHost?: string;
  /** umask of the caller: files the outputs write get mode 0666 without these bits (default 022). */
  readonly umask?: number;
  /** Environment variables of the host processes a build runs for its caller: git, ssh-agent and ssh-add. */
  readonly processEnv?: Readonly<Record<string, string>>;
}

/**
 * BuildRequest is everything one build needs from its caller: bytes, streams and values, never process globals. The
 * fields named after a `tbuild build` flag mean what the flag means; only the Dockerfile, the context and the outputs
 * are required.
 *
 * @example
 * ```ts
 * const request: BuildRequest = {
 *   dockerfile: { name: 'Dockerfile', bytes: Buffer.from('FROM busybox\nRUN echo hi > /hi\n') },
 *   context: { kind: 'none' },
 *   outputs: [{ type: 'oci', dest: '/tmp/hi.tar', names: ['hi:latest'], image: { compression: 'gzip', forceCompression: false } }],
 * };
 * ```
 */
export interface BuildRequest {
  readonly dockerfile: DockerfileSource;
  readonly context: ContextSource;
  /** Values taken from the caller's environment. */
  readonly environment?: BuildEnvironment;
  /** `--build-arg`: values of the Dockerfile's ARGs. */
  readonly buildArgs?: ReadonlyMap<string, string>;
  /** `--target`: the stage to build (default: the last). */
  readonly target?: string;
  /** `--platform`: the platform to build for (default: this machine's). */
  readonly platform?: Platform;
  /** Several target platforms built together into one image index (`--platform a,b`); `platform` is then unset. */
  readonly platforms?: readonly Platform[];
  /** `--output`, `-t`, `--push`, `--load`: where the result goes; none builds the cache only. */
  readonly outputs: readonly OutputSpec[];
  /** `--no-cache`: run every step again. */
  readonly noCache?: boolean;
  /** `--no-cache-filter`: stages whose steps run again. */
  readonly noCacheFilter?: readonly string[];
  /** `--explain`: say under each step that ran why it did not come from the cache (needs the build history). */
  readonly explain?: boolean;
  /** Settings file (tbuild.toml: registry mirrors and certificates, `[gc]`, `[resolve]`); the controller's when absent. */
  readonly registryConfigPath?: string;
  /** Resolve base images in the registry again instead of using what the store knows. */
  readonly pull?: boolean;
  /** `--secret`: build secrets RUN --mount=type=secret can read. */
  readonly secrets?: readonly SecretSpec[];
  /** `--ssh`: agent sockets or key files RUN --mount=type=ssh can use. */
  readonly ssh?: readonly SshSpec[];
  /** `--allow`: entitlements granted to the build. */
  readonly allow?: readonly Entitlement[];
  /** `--network`: network of RUNs that do not choose one. */
  readonly network?: 'default' | 'none' | 'host';
  /** `--cache-from`: caches to import, looked up after the local store misses. */
  readonly cacheFrom?: readonly CacheImportSpec[];
  /** `--cache-to`: where to export the build cache after the build. */
  readonly cacheTo?: readonly CacheExportSpec[];
  /** `--build-context`: named contexts for FROM and COPY --from. */
  readonly buildContexts?: readonly BuildContextSpec[];
  /** `--check`: run the build checks only. */
  readonly check?: boolean;
  /** `--print`: print the compiled graph instead of building; `--call targets|outline|…`: describe the Dockerfile. */
  readonly print?: PrintKind;
  /** `--label`: labels set on the image, over the Dockerfile's own. */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * The git checkout the context folder is in, as buildx reports it to BuildKit (`vcs:` attributes without the
   * prefix): `source` (its remote URL), `revision` (its commit) and `localdir:NAME` (where a local source is in it).
   * The provenance records them.
   */
  readonly vcs?: Readonly<Record<string, string>>;
  /** `--add-host`: /etc/hosts lines of every RUN. */
  readonly extraHosts?: readonly { readonly host: string; readonly ip: string }[];
  /** `--shm-size`: /dev/shm size of every RUN, in bytes. */
  readonly shmSizeBytes?: number;
  /** `--attest`, `--provenance`, `--sbom`: attestations attached to pushed images and OCI archives. */
  readonly attestations?: readonly AttestationSpec[];
  /**
   * The build's provenance for `--metadata-file` (buildx's `buildx.build.provenance`, BUILDX_METADATA_PROVENANCE):
   * min or max; none when absent.
   */
  readonly metadataProvenance?: 'min' | 'max';
  /** `--ulimit`: resource limits of every RUN. */
  readonly ulimits?: readonly { readonly name: string; readonly soft: number; readonly hard: number }[];
  /** `--cgroup-parent`: the cgroup every RUN's own cgroup is made under (a path from the hierarchy's root). */
  readonly cgroupParent?: string;
  /** `--resource` (and buildx's `--memory`, `--cpu-shares` …): cgroup limits of every RUN. */
  readonly resources?: RunResources;
}

/**
 * AttestationSpec is one attestation a build attaches to its images (`--attest`, `--provenance`, `--sbom`): SLSA
 * provenance (mode min or max) or an SPDX SBOM tbuild makes from the image's package databases. An inline-only one
 * (buildx's default provenance) goes to pushed images only, not to OCI archives.
 */
export type AttestationSpec =
  | {
      readonly type: 'provenance';
      readonly mode: 'min' | 'max';
      /** builder.id of the predicate (`builder-id=`). */
      readonly builderId?: string;
      /** metadata.reproducible of the predicate (`reproducible=true`). */
      readonly reproducible?: boolean;
      /** SLSA provenance version (`version=`): v0.2 when absent, or v1. */
      readonly version?: 'v0.2' | 'v1';
      readonly inlineOnly?: boolean;
    }
  | { readonly type: 'sbom' };

/** SecretSpec is one `--secret`: a file read when a RUN mounts it, or a value (an environment variable of the caller). */
export type SecretSpec = { readonly id: string; readonly kind: 'file'; readonly path: string } | { readonly id: string; readonly kind: 'value'; readonly value: Uint8Array };

/** SshSpec is one `--ssh`: an id and agent sockets or key files (empty: the environment's SSH_AUTH_SOCK). */
export interface SshSpec {
  readonly id: string;
  readonly paths: readonly string[];
}

/** Entitlement is a privilege a build must be granted explicitly. */
export type Entitlement = 'security.insecure' | 'network.host';

/** MetadataProvenance is a build's SLSA v0.2 provenance predicate as JSON text, and its platform among several. */
export interface MetadataProvenance {
  readonly platform?: string;
  readonly json: string;
}

/** RootDescriptor is the descriptor of the top object of an image: its media type, digest and size. */
export interface RootDescriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  /** The platform of an image manifest built for one platform. */
  readonly platform?: { readonly architecture: string; readonly os: string; readonly variant?: string };
}

/** BuildResult is what a finished build produced. */
export interface BuildResult {
  /** Digest of the image config (the image ID), when an image was made. */
  readonly imageId?: string;
  /** Digest of the image manifest, when an image was made. */
  readonly manifestDigest?: string;
  readonly pushedDigest?: string;
  /**
   * Descriptor of what the image outputs made, as BuildKit's exporters answer `containerimage.descriptor`: the image
   * index of an attested or several-platform image, else the image manifest.
   */
  readonly descriptor?: RootDescriptor;
  /** Id of the build in its controller's history. */
  readonly buildId?: string;
  /** The build's provenance when `metadataProvenance` asked for it: one per platform of a several-platform build. */
  readonly provenance?: readonly MetadataProvenance[];
  readonly names: readonly string[];
  readonly warnings: readonly string[];
  /** Text `--print` asked for. */
  readonly printed?: string;
  /** `--check` found problems that `# check=error=true` makes fatal. */
  readonly checkFailed?: boolean;
}

/**
 * PRINT_KINDS are what `--print` or `--call` prints instead of building: the compiled graph, or an answer about the
 * Dockerfile (its targets, the target's outline, the subrequests the frontend answers), each as text or JSON (`-json`).
 */
export const PRINT_KINDS = ['graph', 'graph-json', 'targets', 'targets-json', 'outline', 'outline-json', 'subrequests.describe', 'subrequests.describe-json'] as const;

/** PrintKind is one of PRINT_KINDS. */
export type PrintKind = (typeof PRINT_KINDS)[number];
