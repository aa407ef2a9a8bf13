import type { Platform } from '../../base/oci.js';
import type { GitSource, HttpSource } from './source.js';
import type { RunResources } from '../../base/run-resources.js';

export type { GitSource, HttpSource } from './source.js';
export type { RunResources } from '../../base/run-resources.js';

/** ImageSource is a base image from a registry, by normalised reference. */
export interface ImageSource {
  readonly type: 'image';
  /** Normalised reference, e.g. `docker.io/library/busybox:latest`. */
  readonly ref: string;
}

/** LocalSource is a folder on the client: the build context or a named context. */
export interface LocalSource {
  readonly type: 'local';
  /** Context name: `context` for the main build context. */
  readonly name: string;
  /** Only these paths (and their contents) are read; empty means all that .dockerignore keeps. */
  readonly includePatterns: readonly string[];
  /** Paths left out of this read, on top of .dockerignore (COPY --exclude). */
  readonly excludePatterns: readonly string[];
}

/** SourceOp brings content into the graph. */
export interface SourceOp {
  readonly kind: 'source';
  readonly source: ImageSource | LocalSource | HttpSource | GitSource;
  readonly platform: Platform;
}

/** NetworkMode is how a RUN reaches the network. */
export type NetworkMode = 'default' | 'none' | 'host';

/** SecurityMode is `insecure` only with the security.insecure entitlement. */
export type SecurityMode = 'sandbox' | 'insecure';

/** ExecMeta is what process an ExecOp runs. */
export interface ExecMeta {
  readonly args: readonly string[];
  readonly env: readonly string[];
  readonly cwd: string;
  /** `user[:group]` as in USER; empty means root. */
  readonly user: string;
  readonly hostname?: string;
  /** `--add-host`: lines added to the process's /etc/hosts. */
  readonly extraHosts?: readonly HostEntry[];
  /** `--shm-size`: size of /dev/shm in bytes (default 64 MiB). */
  readonly shmSizeBytes?: number;
  /** `--ulimit`: resource limits the RUN's process gets. */
  readonly ulimits?: readonly Ulimit[];
  /** `--cgroup-parent`: the cgroup (a path from each hierarchy's root) the RUN's own cgroup is made under. */
  readonly cgroupParent?: string;
}

/** HostEntry is one `host:ip` line of /etc/hosts. */
export interface HostEntry {
  readonly host: string;
  readonly ip: string;
}

/** Ulimit is one resource limit by its ulimit name (nofile, nproc, core …), as docker's --ulimit names it. */
export interface Ulimit {
  readonly name: string;
  readonly soft: number;
  readonly hard: number;
}

/** BindExecMount is a filesystem from an op input (or scratch when input is null). */
export interface BindExecMount {
  readonly type: 'bind';
  readonly input: number | null;
  readonly dest: string;
  /** Output index the mount's changes become, or null when changes are discarded. */
  readonly output: number | null;
  readonly readonly: boolean;
  readonly selector?: string;
}

/** CacheSharing is how concurrent users of one cache mount share it. */
export type CacheSharing = 'shared' | 'private' | 'locked';

/** MountOwner is the mode and owner a created mount target gets. */
export interface MountOwner {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

/** CacheExecMount is a directory kept across builds, outside every layer and cache key. */
export interface CacheExecMount extends MountOwner {
  readonly type: 'cache';
  readonly dest: string;
  readonly id: string;
  readonly sharing: CacheSharing;
  readonly readonly: boolean;
  /** Op input index a new cache directory is seeded from, or null for empty. */
  readonly input: number | null;
  readonly selector?: string;
}

/** TmpfsExecMount is an empty tmpfs. */
export interface TmpfsExecMount {
  readonly type: 'tmpfs';
  readonly dest: string;
  readonly sizeBytes?: number;
}

/** SecretExecMount exposes a build secret as a file (dest) and/or an environment variable (env); never its value. */
export interface SecretExecMount extends MountOwner {
  readonly type: 'secret';
  readonly id: string;
  /** File path of the secret, or null when it is only exposed through env. */
  readonly dest: string | null;
  readonly env?: string;
  readonly required: boolean;
}

/** SshExecMount forwards an SSH agent socket. */
export interface SshExecMount extends MountOwner {
  readonly type: 'ssh';
  readonly id: string;
  readonly dest: string;
  readonly required: boolean;
  /** Set SSH_AUTH_SOCK to dest. */
  readonly setEnv: boolean;
}

/** ExecMount is one filesystem an ExecOp sees. */
export type ExecMount = BindExecMount | CacheExecMount | TmpfsExecMount | SecretExecMount | SshExecMount;

/** ProxyEnv is the proxy settings given as build args; passed to RUN but kept out of cache keys and history. */
export interface ProxyEnv {
  readonly httpProxy?: string;
  readonly httpsProxy?: string;
  readonly ftpProxy?: string;
  readonly noProxy?: string;
  readonly allProxy?: string;
}

/** ExecOp runs a process over its root mount. */
export interface ExecOp {
  readonly kind: 'exec';
  readonly meta: ExecMeta;
  readonly mounts: readonly ExecMount[];
  readonly network: NetworkMode;
  readonly security: SecurityMode;
  readonly platform: Platform;
  /** Proxy variables set in the process environment (not hashed). */
  readonly proxyEnv?: ProxyEnv;
  /** Cgroup limits of the process (not hashed: BuildKit keeps them in op metadata). */
  readonly resources?: RunResources;
}

/** Chown is a user and group given by name or id, resolved in the destination image. */
export interface Chown {
  readonly user: string;
  readonly group?: string;
}

/** CopyAction copies paths from one input into the base. */
export interface CopyAction {
  readonly action: 'copy';
  /** Op input index the sources come from. */
  readonly input: number;
  readonly sources: readonly string[];
  readonly dest: string;
  readonly chown?: Chown;
  readonly chmod?: string;
  readonly excludes: readonly string[];
  /** Unpack local tar archives (ADD). */
  readonly extractArchives: boolean;
  /** Keep the parent directories of sources below the context root (COPY --parents). */
  readonly parents: boolean;
}

/** MkdirAction creates a directory (WORKDIR). */
export interface MkdirAction {
  readonly action: 'mkdir';
  readonly path: string;
  readonly mode: number;
  readonly makeParents: boolean;
  readonly chown?: Chown;
  /** The time (seconds since 1970) every directory it creates is given, parents too (WORKDIR with SOURCE_DATE_EPOCH). */
  readonly timestamp?: number;
}

/** MkfileAction writes a file with given content (heredoc COPY). */
export interface MkfileAction {
  readonly action: 'mkfile';
  readonly path: string;
  readonly mode: number;
  readonly data: string;
  readonly chown?: Chown;
}

/** FileAction is one change a FileOp makes. */
export type FileAction = CopyAction | MkdirAction | MkfileAction;

/** FileOp changes files over a base input (or scratch when base is null). */
export interface FileOp {
  readonly kind: 'file';
  readonly base: number | null;
  readonly actions: readonly FileAction[];
  readonly platform: Platform;
}

/**
 * MergeOp stacks the single layer of its second input (a change made on scratch, as `COPY --link` makes)
 * on top of its first input: the layer does not depend on what lies below, so it stays cached when the base changes.
 */
export interface MergeOp {
  readonly kind: 'merge';
  readonly platform: Platform;
}

/** Op is any operation of the build graph. */
export type Op = SourceOp | ExecOp | FileOp | MergeOp;
