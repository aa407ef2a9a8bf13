import type { OverlaySetting } from './overlay-driver.js';
import type { RunResources } from '../base/run-resources.js';
import type { ExecTerminal } from './terminal.js';

/** OverlayRootfs is the layered root filesystem of one exec: read-only lowers plus the upperdir that becomes the diff. */
export interface OverlayRootfs {
  /** Top layer first; empty means scratch. */
  readonly lowerdirs: readonly string[];
  readonly upperdir: string;
  readonly workdir: string;
}

/** BindFlag is a mount flag a bind mount may add to rbind and ro/rw. */
export type BindFlag = 'nosuid' | 'nodev' | 'noexec';

/** ExecMount is an extra mount inside the sandbox. */
export type ExecMount =
  | {
      readonly kind: 'bind';
      readonly source: string;
      readonly target: string;
      readonly readonly: boolean;
      /** None for snapshots and sockets, as BuildKit mounts them; secrets and the /etc files get some. */
      readonly flags?: readonly BindFlag[];
    }
  | { readonly kind: 'tmpfs'; readonly target: string; readonly sizeBytes?: number }
  | OverlayMount;

/**
 * OverlayMount is an overlay of snapshot layers mounted at target inside the sandbox (e.g. RUN --mount from a stage).
 * `subpath` (relative) selects a directory of the merged tree; changes land in upperdir, which the caller discards.
 */
export interface OverlayMount {
  readonly kind: 'overlay';
  readonly target: string;
  /** Top layer first; at least one. */
  readonly lowerdirs: readonly string[];
  readonly upperdir: string;
  readonly workdir: string;
  readonly readonly: boolean;
  readonly subpath?: string;
  /** Empty host directory the helper mounts the overlay on inside its namespace; set by the bundle. */
  readonly stageDir?: string;
}

/** ProcessSpec is the process to run; `user` is in Dockerfile USER form ('' = root). */
export interface ProcessSpec {
  readonly args: readonly string[];
  readonly env: readonly string[];
  readonly cwd: string;
  readonly user: string;
}

/**
 * NetworkMode selects the sandbox network: 'default' is a network namespace of the exec's own with outbound access
 * (see createSandboxNetwork), 'host' shares the host's, 'none' has only a loopback.
 */
export type NetworkMode = 'default' | 'none' | 'host';

/** SecurityMode is 'insecure' for RUN --security=insecure (privileged: all capabilities, no seccomp). */
export type SecurityMode = 'sandbox' | 'insecure';

/**
 * ExecResources are the cgroup limits of one exec: a RUN's (BuildKit's LinuxResources), and the limits the executor
 * sets itself. An absent field means unlimited.
 */
export interface ExecResources extends RunResources {
  readonly pidsMax?: number;
  /** cgroup v2 cpu.weight, 1-10000 (100 is the default); mapped to cpu.shares on cgroup v1. */
  readonly cpuWeight?: number;
}

/** ExecUsage is what one exec consumed, as its cgroup measured it. */
export interface ExecUsage {
  readonly memoryPeakBytes?: number;
  readonly cpuTimeMs?: number;
}

/** ExecRequest describes one process run in a sandbox. */
export interface ExecRequest {
  readonly rootfs: OverlayRootfs;
  /** What mounts the overlays (the settings file's `[store] overlay`); 'auto' when unset. */
  readonly overlay?: OverlaySetting;
  readonly process: ProcessSpec;
  readonly hostname?: string;
  readonly network: NetworkMode;
  readonly mounts: readonly ExecMount[];
  /** Defaults to 'sandbox'. */
  readonly security?: SecurityMode;
  readonly resources?: ExecResources;
  /**
   * The cgroup (a path from each hierarchy's root, as BuildKit's cgroup-parent) the exec's own cgroup is made under,
   * in a `tbuild` folder; without it, under tbuild's cgroup next to this process's own.
   */
  readonly cgroupParent?: string;
  /** Lines added to /etc/hosts (`--add-host`). */
  readonly extraHosts?: readonly { readonly host: string; readonly ip: string }[];
  /** Size of /dev/shm in bytes; 64 MiB when unset. */
  readonly shmSizeBytes?: number;
  /** Resource limits by ulimit name (nofile, nproc, core …); nofile replaces the default. */
  readonly ulimits?: readonly { readonly name: string; readonly soft: number; readonly hard: number }[];
  readonly onOutput?: (stream: 'stdout' | 'stderr', data: Buffer) => void;
  /**
   * The user's terminal, for an interactive process (a debug shell): the process gets a pty as its controlling
   * terminal instead of pipes, and onOutput is not called.
   */
  readonly terminal?: ExecTerminal;
}

/** ExecResult is how the process ended: an exit code, or the name of the signal that killed it. */
export interface ExecResult {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly durationMs: number;
  readonly usage?: ExecUsage;
}

/** Executor runs one process in a sandbox. */
export interface Executor {
  run(request: ExecRequest, options: { signal: AbortSignal }): Promise<ExecResult>;
  /**
   * expect says that a process on this network will probably run soon (a RUN whose cache key missed, whose inputs are
   * still being made): the executor may get ready for it meanwhile, as a network pool starts its network.
   */
  expect?(network: NetworkMode): void;
}

/** ResolvedUser is a numeric identity for the container process. */
export interface ResolvedUser {
  readonly uid: number;
  readonly gid: number;
  readonly additionalGids: readonly number[];
  /** HOME for a process whose environment sets none: the user's passwd entry's, or / without one (runc's rule). */
  readonly home?: string;
}
