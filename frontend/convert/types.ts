import type { SourceLocation } from '../../base/errors.js';
import type { ImageBase, ImageConfig, Platform } from '../../base/oci.js';
import type { Edge, ExecMeta, GitSource, HttpSource, RunResources } from '../../solver/graph/index.js';

/** ResolvedImageConfig is a base image's normalised reference, manifest digest and config. */
export interface ResolvedImageConfig {
  /** Normalised reference, e.g. `docker.io/library/busybox:latest`. */
  readonly ref: string;
  readonly digest: string;
  readonly config: ImageConfig;
}

/** ImageConfigResolver looks up an image's config for a platform; injected so the frontend does no I/O. */
export type ImageConfigResolver = (ref: string, options: { platform: Platform; signal: AbortSignal }) => Promise<ResolvedImageConfig>;

/**
 * SourceDateSubject is what a SOURCE_DATE_EPOCH that is no number dates the build by: the build context, or the HTTP
 * or git source of a named context or of a source-only stage.
 */
export type SourceDateSubject = { readonly kind: 'context' } | { readonly kind: 'source'; readonly source: HttpSource | GitSource };

/**
 * SourceDateResolver finds when a source last changed, in seconds since 1970, as BuildKit dates it: a git commit's
 * committer time; an HTTP download's Last-Modified, else the newest file in it when it is an archive. Undefined when
 * the source tells none (a local folder). Injected so the frontend does no I/O.
 */
export type SourceDateResolver = (subject: SourceDateSubject, options: { signal: AbortSignal }) => Promise<number | undefined>;

/** CompileOptions configures one Dockerfile compilation. */
export interface CompileOptions {
  /** Dockerfile path as shown in errors, e.g. `Dockerfile`. */
  readonly file: string;
  readonly buildArgs: ReadonlyMap<string, string>;
  readonly target?: string;
  readonly targetPlatform: Platform;
  readonly buildPlatform: Platform;
  /**
   * Set when no platform was asked for (the target is this machine's): a base image made for another platform this
   * machine runs (natively or emulated) then sets its stage's platform without a warning, as BuildKit's
   * autoDetectPlatform does. Called only for such a base. Injected so the frontend does no I/O.
   */
  readonly implicitTargetPlatform?: { readonly workerPlatforms: () => Promise<readonly Platform[]> };
  /** One of several platforms built together: step names start with the stage's platform (`[linux/arm64 2/3] RUN …`). */
  readonly platformPrefix?: boolean;
  readonly resolveImageConfig: ImageConfigResolver;
  readonly noCache?: boolean;
  /** Stage names whose ops ignore the cache. */
  readonly noCacheFilter?: readonly string[];
  readonly signal: AbortSignal;
  /** Named contexts (`--build-context name=...`) that `FROM name` and `COPY --from=name` read. */
  readonly namedContexts?: ReadonlyMap<string, NamedContext>;
  /** The patterns of the build context's ignore file, for the CopyIgnoredFile check. */
  readonly contextIgnore?: readonly string[];
  /** Only checking (`--check`): every stage is compiled, to check them all. */
  readonly checkOnly?: boolean;
  /**
   * Settings every RUN gets (`--add-host`, `--shm-size`, `--ulimit`, `--cgroup-parent`, the BUILDKIT_SANDBOX_HOSTNAME
   * hostname), part of each RUN's cache key, and its cgroup limits (`--resource`), which are not.
   */
  readonly run?: RunSettings;
  /** Dates the build when SOURCE_DATE_EPOCH names its context, a named context or a stage; without it they give none. */
  readonly resolveSourceDate?: SourceDateResolver;
}

/** RunSettings are the build-wide settings of RUN processes. */
export type RunSettings = Pick<ExecMeta, 'hostname' | 'extraHosts' | 'shmSizeBytes' | 'ulimits' | 'cgroupParent'> & { readonly resources?: RunResources };

/**
 * NamedContext is what a `--build-context` names: a local folder (registered under its name), an image, or a URL (a
 * git repository, or an HTTP download read as one file named `context`, as BuildKit reads it).
 */
export type NamedContext = { readonly type: 'local' } | { readonly type: 'image'; readonly ref: string } | { readonly type: 'url'; readonly url: string };

/** BuildWarning is a check finding (BuildKit rule name) with its location, and the rule's description and page. */
export interface BuildWarning {
  readonly rule: string;
  readonly message: string;
  readonly description: string;
  readonly url?: string;
  readonly location?: SourceLocation;
}

/** BuildDefinition is the compiled graph of the target stage plus the image config it produces. */
export interface BuildDefinition {
  /** Final state of the target stage; null for scratch with no change. */
  readonly root: Edge | null;
  /** Config of the resulting image; rootfs.diff_ids is left empty for the exporter to fill. */
  readonly image: ImageConfig;
  readonly stageName: string | undefined;
  readonly warnings: readonly BuildWarning[];
  /** Checks found problems and `# check=error=true` makes them fatal. */
  readonly checkFailed?: boolean;
  /** The error a build fails with when checkFailed, after showing the warnings: `lint violation found for rules: …`. */
  readonly violation?: string;
  /** SOURCE_DATE_EPOCH (seconds) from a --build-arg or a global ARG: what the export dates and clamps times to. */
  readonly sourceDateEpoch?: number;
  /** What the image keeps from its base image, which an export's epoch leaves as it is. */
  readonly base?: ImageBase;
}
