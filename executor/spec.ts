import path from 'node:path';
import { InternalError, SnapshotError } from '../base/errors.js';
import { INSECURE_DEVICE_RULES, SANDBOX_DEVICE_RULES, type DeviceRule } from './device-rules.js';
import { defaultSeccompProfile, type SeccompSpec } from './seccomp-profile.js';
import type { TerminalSize } from './terminal.js';
import type { ExecMount, ExecResources, NetworkMode, ResolvedUser, SecurityMode } from './types.js';

/**
 * Runtime-spec generation. The result is a plain OCI runtime-spec config.json object.
 *
 * Root filesystem convention: `root.path` is always "rootfs" (relative to the bundle). When the rootfs is an overlay
 * that the sandbox helper must mount itself, the FIRST entry of `mounts` has destination "/" and type "overlay" with
 * lowerdir/upperdir/workdir options: the helper mounts it on root.path inside the container's private mount
 * namespace, so it disappears with the namespace. Without that entry, root.path is an already prepared directory
 * (this is the form runc gets, after the caller mounted the overlay on the host).
 */

/** RuntimeMount is one runtime-spec mount entry. */
export interface RuntimeMount {
  readonly destination: string;
  readonly type: string;
  readonly source: string;
  readonly options: readonly string[];
}

/** RuntimeSpec is the subset of the OCI runtime-spec config.json that tbuild writes. */
export interface RuntimeSpec {
  readonly ociVersion: string;
  readonly process: {
    readonly terminal: boolean;
    readonly consoleSize?: { readonly height: number; readonly width: number };
    readonly user: { readonly uid: number; readonly gid: number; readonly additionalGids: readonly number[] };
    readonly args: readonly string[];
    readonly env: readonly string[];
    readonly cwd: string;
    readonly capabilities: Readonly<Record<'bounding' | 'effective' | 'inheritable' | 'permitted' | 'ambient', readonly string[]>>;
    readonly rlimits: readonly { readonly type: string; readonly hard: number; readonly soft: number }[];
    readonly noNewPrivileges: boolean;
  };
  readonly root: { readonly path: string; readonly readonly: boolean };
  readonly hostname: string;
  readonly mounts: readonly RuntimeMount[];
  readonly linux: {
    /** A namespace with a path is joined (the RUN's own network, made beforehand); one without is created. */
    readonly namespaces: readonly { readonly type: string; readonly path?: string }[];
    readonly maskedPaths: readonly string[];
    readonly readonlyPaths: readonly string[];
    readonly seccomp?: SeccompSpec;
    /** Set for runtimes that create the cgroup themselves (runc); tbuild's helper is handed a prepared cgroup. */
    readonly cgroupsPath?: string;
    /** Device rules always; limits with cgroupsPath (tbuild's helper gets both through its prepared cgroup). */
    readonly resources: RuntimeResources;
  };
}

/** RuntimeResources is the runtime-spec `linux.resources` subset tbuild sets. */
export interface RuntimeResources {
  readonly devices?: readonly DeviceRule[];
  readonly memory?: { readonly limit: number; readonly swap: number };
  readonly pids?: { readonly limit: number };
  readonly cpu?: {
    readonly shares?: number;
    readonly quota?: number;
    readonly period?: number;
    readonly cpus?: string;
    readonly mems?: string;
  };
}

/** SpecRoot says how the rootfs reaches root.path: mounted by the helper, or prepared by the caller. */
export type SpecRoot =
  | { readonly kind: 'overlay'; readonly lowerdirs: readonly string[]; readonly upperdir: string; readonly workdir: string }
  | { readonly kind: 'prepared' };

/** SpecInput is everything buildRuntimeSpec needs; all paths are host paths. */
export interface SpecInput {
  readonly args: readonly string[];
  readonly env: readonly string[];
  readonly cwd: string;
  readonly user: ResolvedUser;
  /** The process's stdio is a terminal of this size it takes as its controlling one (an interactive shell). */
  readonly terminal?: TerminalSize;
  readonly hostname: string;
  readonly network: NetworkMode;
  /** With network 'default': the file of the network namespace made for this exec (see createSandboxNetwork). */
  readonly netnsPath?: string;
  readonly root: SpecRoot;
  /** Extra mounts, after the standard ones, in order (e.g. /etc/resolv.conf, /etc/hosts, RUN --mount). */
  readonly mounts: readonly ExecMount[];
  /** RLIMIT_NOFILE soft and hard value; defaults to 1048576. */
  readonly nofile?: number;
  /** Size of /dev/shm in bytes; 64 MiB when unset. */
  readonly shmSizeBytes?: number;
  /** Resource limits by ulimit name (nofile, nproc …); a nofile here replaces `nofile`. */
  readonly ulimits?: readonly { readonly name: string; readonly soft: number; readonly hard: number }[];
  /** 'insecure' (RUN --security=insecure) runs privileged: all capabilities, no seccomp, no masked paths. */
  readonly security?: SecurityMode;
  /** The host's bounding set (bit n = capability n): privileged processes get what the host can give. */
  readonly hostCapabilities?: bigint;
  /**
   * A cgroup namespace for the process, so /proc/self/cgroup does not show where its cgroup is (BuildKit asks for one
   * on cgroup v2 only: runtimes fail to make one over some v1 hierarchies). tbuild's helper makes its own regardless.
   */
  readonly cgroupNamespace?: boolean;
  /** Cgroup path and limits for runtimes that create the cgroup (runc). */
  readonly cgroup?: { readonly path: string; readonly resources: ExecResources };
  /**
   * tbuild runs rootless (in a user namespace of an ordinary user): overlays keep their state in `user.overlay.*`
   * attributes (`userxattr`), there is no cgroup filesystem, and /dev/pts belongs to group tty (5) only when the
   * namespace maps that group.
   */
  readonly rootless?: RootlessSpec;
  /**
   * false runs the process without a PID namespace of its own, with the current /proc bound in instead of a new one
   * (BuildKit's NoProcessSandbox): for a tbuild whose user namespace may not mount proc, where /proc is masked.
   */
  readonly processSandbox?: boolean;
}

/** RootlessSpec is what a rootless exec's spec depends on: whether the user namespace maps the tty group. */
export interface RootlessSpec {
  readonly ttyGroupMapped: boolean;
}

/** DEFAULT_CAPABILITIES is Docker's default capability set (CapEff 00000000a80425fb). */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** ALL_CAPABILITIES is every capability the sandbox knows, in kernel bit order; privileged processes get these. */
export const ALL_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
  'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ',
  'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

/** MASKED_PATHS are hidden from the container, as runc's default spec does. */
export const MASKED_PATHS: readonly string[] = [
  '/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];

/** READONLY_PATHS are made read-only inside the container, as runc's default spec does. */
export const READONLY_PATHS: readonly string[] = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** DEFAULT_PATH is set when the process environment has no PATH. */
export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const DEFAULT_NOFILE = 1048576;

/** TTY_GID is the group /dev/pts terminals belong to (tty), as runc's default spec sets it. */
export const TTY_GID = 5;

const STANDARD_MOUNTS: readonly RuntimeMount[] = [
  { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
  { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
  {
    destination: '/dev/pts',
    type: 'devpts',
    source: 'devpts',
    options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', `gid=${TTY_GID}`],
  },
  { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
  { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
  { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
  // BuildKit's withCGroup: the process's own cgroups, read-only, so runtimes sizing themselves from cgroup limits
  // (JVM, .NET) find them.
  { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] },
];

/**
 * standardMounts are the mounts every exec gets. Rootless there is no cgroup filesystem (a user namespace may not
 * mount cgroup v1 hierarchies, and tbuild gives rootless execs no cgroup of their own to show), and devpts gets no
 * gid= the namespace cannot map (the kernel refuses the mount): its terminals then belong to the creator's group.
 */
function standardMounts(rootless: RootlessSpec | undefined): readonly RuntimeMount[] {
  if (rootless === undefined) return STANDARD_MOUNTS;
  return STANDARD_MOUNTS.filter((m) => m.type !== 'cgroup').map((m) =>
    m.type === 'devpts' && !rootless.ttyGroupMapped ? { ...m, options: (m.options ?? []).filter((o) => o !== `gid=${TTY_GID}`) } : m,
  );
}

/**
 * BOUND_PROC is /proc without a process sandbox: the caller's, with what covers parts of it, recursively bound (a
 * plain bind would leave those parts uncovered; the kernel refuses it there). Writable as BuildKit's, with the
 * masked and read-only paths laid over it as over a new proc.
 */
const BOUND_PROC: RuntimeMount = { destination: '/proc', type: 'bind', source: '/proc', options: ['rbind', 'nosuid', 'noexec', 'nodev'] };

/** withProcessMode replaces the new proc of the standard mounts with the bound one when there is no process sandbox. */
function withProcessMode(mounts: readonly RuntimeMount[], processSandbox: boolean): readonly RuntimeMount[] {
  return processSandbox ? mounts : mounts.map((m) => (m.type === 'proc' ? BOUND_PROC : m));
}

/** STANDARD_MOUNT_POINTS are the directories the standard mounts need in the rootfs. */
export const STANDARD_MOUNT_POINTS: readonly string[] = ['/proc', '/dev', '/sys'];

function rootMounts(root: SpecRoot, userxattr: boolean): RuntimeMount[] {
  if (root.kind === 'prepared') return [];
  const { options, basedir } = overlayOptions(root, userxattr);
  const chdir = basedir === undefined ? [] : [`x-basedir=${basedir}`];
  return [{ destination: '/', type: 'overlay', source: 'overlay', options: [...options, ...chdir] }];
}

/** MAX_MOUNT_DATA is the longest mount option string the kernel accepts (one page, NUL included). */
export const MAX_MOUNT_DATA = 4095;

/** OverlayLayers are the directories of one overlay mount, all absolute host paths. */
export interface OverlayLayers {
  readonly lowerdirs: readonly string[];
  readonly upperdir: string;
  readonly workdir: string;
}

function commonParent(paths: readonly string[]): string {
  let parts = path.dirname(paths[0] ?? '/').split('/');
  for (const p of paths.slice(1)) {
    const other = path.dirname(p).split('/');
    let n = 0;
    while (n < parts.length && n < other.length && parts[n] === other[n]) n++;
    parts = parts.slice(0, n);
  }
  return parts.join('/') || '/';
}

/**
 * overlayOptions returns the overlay mount options; a scratch rootfs must pass at least one lowerdir. When absolute
 * paths overflow one page, the lowerdirs become relative to `basedir` (the mounter chdirs there first, see the
 * `x-basedir=` option); when even that is too long a SnapshotError asks for fewer layers. `userxattr` (rootless)
 * keeps overlayfs's state in `user.overlay.*` attributes, as the snapshots of a rootless store are written.
 */
export function overlayOptions(layers: OverlayLayers, userxattr: boolean): { options: string[]; basedir?: string } {
  const extra = userxattr ? ['userxattr'] : [];
  const render = (dirs: readonly string[]): string[] => [`lowerdir=${dirs.join(':')}`, `upperdir=${layers.upperdir}`, `workdir=${layers.workdir}`, ...extra];
  const absolute = render(layers.lowerdirs);
  if (absolute.join(',').length <= MAX_MOUNT_DATA) return { options: absolute };
  // The image layers are siblings in the snapshot store; a stub layer on top may sit elsewhere (reached by "..").
  const basedir = commonParent(layers.lowerdirs.length > 1 ? layers.lowerdirs.slice(1) : layers.lowerdirs);
  const relative = render(layers.lowerdirs.map((d) => path.relative(basedir, d) || '.'));
  if (relative.join(',').length > MAX_MOUNT_DATA) {
    throw new SnapshotError(`Cannot mount ${layers.lowerdirs.length} layers: the overlay options exceed ${MAX_MOUNT_DATA} bytes`);
  }
  return { options: relative, basedir };
}

function execMount(m: ExecMount, userxattr: boolean): RuntimeMount {
  switch (m.kind) {
    case 'bind':
      return { destination: m.target, type: 'bind', source: m.source, options: ['rbind', m.readonly ? 'ro' : 'rw', ...(m.flags ?? [])] };
    case 'tmpfs': {
      // BuildKit's RUN --mount=type=tmpfs: nosuid only (device nodes allowed), world-writable with the sticky bit.
      const size = m.sizeBytes === undefined ? [] : [`size=${m.sizeBytes}`];
      return { destination: m.target, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'mode=1777', ...size] };
    }
    case 'overlay': {
      // The helper mounts the overlay on x-stage inside its namespace, then binds `source` (stage + subpath) to target.
      const stage = m.stageDir ?? '';
      const source = m.subpath === undefined || m.subpath === '' ? stage : `${stage}/${m.subpath.replace(/^\/+/, '')}`;
      const overlay = overlayOptions(m, userxattr);
      if (overlay.basedir !== undefined) throw new SnapshotError(`Cannot mount ${m.lowerdirs.length} layers at "${m.target}": too many layers`);
      const options = [...overlay.options, `x-stage=${stage}`, ...(m.readonly ? ['ro'] : [])];
      return { destination: m.target, type: 'overlay', source, options };
    }
  }
}

/** writableSys makes /sys and the cgroup filesystem writable for --security=insecure, as BuildKit does. */
function writableSys(m: RuntimeMount): RuntimeMount {
  return m.destination === '/sys' || m.destination === '/sys/fs/cgroup' ? { ...m, options: m.options.filter((o) => o !== 'ro') } : m;
}

/** cpuSharesOf is the cgroup v1 cpu.shares of limits given as shares or as a cgroup v2 cpu.weight, if either. */
export function cpuSharesOf(r: Pick<ExecResources, 'cpuShares' | 'cpuWeight'>): number | undefined {
  return r.cpuShares ?? (r.cpuWeight === undefined ? undefined : cpuWeightToShares(r.cpuWeight));
}

/** cpuWeightToShares maps a cgroup v2 cpu.weight (1-10000) to v1 cpu.shares (2-262144), inverting runc's mapping. */
export function cpuWeightToShares(weight: number): number {
  return Math.round(2 + ((weight - 1) * 262142) / 9999);
}

function runtimeResources(r: ExecResources): RuntimeResources {
  const shares = cpuSharesOf(r);
  const cpu = {
    ...(shares === undefined ? {} : { shares }),
    ...(r.cpuQuotaUs === undefined ? {} : { quota: r.cpuQuotaUs }),
    ...(r.cpuPeriodUs === undefined ? {} : { period: r.cpuPeriodUs }),
    ...(r.cpusetCpus === undefined ? {} : { cpus: r.cpusetCpus }),
    ...(r.cpusetMems === undefined ? {} : { mems: r.cpusetMems }),
  };
  return {
    // swap is memory plus swap, as in cgroup v1; without a swap limit the process may not swap, as in tbuild's sandbox.
    ...(r.memoryBytes === undefined ? {} : { memory: { limit: r.memoryBytes, swap: r.memorySwapBytes ?? r.memoryBytes } }),
    ...(r.pidsMax === undefined ? {} : { pids: { limit: r.pidsMax } }),
    ...(Object.keys(cpu).length === 0 ? {} : { cpu }),
  };
}

/** withDefaultEnv adds PATH when the environment has none, and HOME when it has none or an empty one, as runc does. */
function withDefaultEnv(env: readonly string[], home: string | undefined): string[] {
  const out = env.some((e) => e.startsWith('PATH=')) ? [...env] : [DEFAULT_PATH, ...env];
  if (home === undefined || out.some((e) => e.startsWith('HOME=') && e !== 'HOME=')) return out;
  return [...out.filter((e) => e !== 'HOME='), `HOME=${home}`];
}

/** buildRuntimeSpec returns the OCI runtime spec for one exec, as plain data. */
export function buildRuntimeSpec(input: SpecInput): RuntimeSpec {
  const nofile = input.nofile ?? DEFAULT_NOFILE;
  const insecure = input.security === 'insecure';
  const rootless = input.rootless !== undefined;
  const hostCaps = input.hostCapabilities ?? -1n;
  const bounding = insecure ? ALL_CAPABILITIES.filter((_, bit) => (hostCaps >> BigInt(bit)) & 1n) : DEFAULT_CAPABILITIES;
  // Like Docker, a non-root user starts with no effective or permitted capabilities; the bounding set stays.
  const privileged = input.user.uid === 0 ? bounding : [];
  const processSandbox = input.processSandbox !== false;
  const namespaces = [...(processSandbox ? ['pid'] : []), 'ipc', 'uts', 'mount', ...(input.cgroupNamespace === true ? ['cgroup'] : [])].map((type) => ({ type }));
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: input.terminal !== undefined,
      // A runtime that makes the container's own pty (runc, crun) starts it at this size.
      ...(input.terminal === undefined ? {} : { consoleSize: { height: input.terminal.rows, width: input.terminal.columns } }),
      user: { uid: input.user.uid, gid: input.user.gid, additionalGids: [...input.user.additionalGids] },
      args: [...input.args],
      env: withDefaultEnv(input.env, input.user.home),
      cwd: input.cwd === '' ? '/' : input.cwd,
      capabilities: {
        bounding,
        effective: privileged,
        inheritable: [],
        permitted: privileged,
        ambient: [],
      },
      rlimits: rlimitsOf(nofile, input.ulimits ?? []),
      noNewPrivileges: false,
    },
    root: { path: 'rootfs', readonly: false },
    hostname: input.hostname,
    mounts: [
      ...rootMounts(input.root, rootless),
      ...withProcessMode(standardMounts(input.rootless), processSandbox).map((m) => (insecure ? writableSys(m) : m)).map((m) => withShmSize(m, input.shmSizeBytes)),
      ...input.mounts.map((m) => execMount(m, rootless)),
    ],
    linux: {
      namespaces: [...namespaces, ...networkNamespace(input)],
      maskedPaths: insecure ? [] : MASKED_PATHS,
      readonlyPaths: insecure ? [] : READONLY_PATHS,
      ...(insecure ? {} : { seccomp: defaultSeccompProfile(bounding) }),
      ...(input.cgroup === undefined ? {} : { cgroupsPath: input.cgroup.path }),
      resources: {
        devices: insecure ? INSECURE_DEVICE_RULES : SANDBOX_DEVICE_RULES,
        ...(input.cgroup === undefined ? {} : runtimeResources(input.cgroup.resources)),
      },
    },
  };
}

/**
 * networkNamespace is the network namespace entry of a spec: a new, empty one for 'none', the one made for the exec
 * for 'default', none at all (the host's) for 'host'.
 */
function networkNamespace(input: SpecInput): { type: string; path?: string }[] {
  switch (input.network) {
    case 'host':
      return [];
    case 'none':
      return [{ type: 'network' }];
    case 'default':
      if (input.netnsPath === undefined) throw new InternalError('Cannot build a runtime spec for the default network without its namespace');
      return [{ type: 'network', path: input.netnsPath }];
  }
}

/** rlimitsOf lists the process's rlimits: RLIMIT_NOFILE by default, then each `--ulimit` (replacing a default). */
function rlimitsOf(nofile: number, ulimits: readonly { name: string; soft: number; hard: number }[]): RuntimeSpec['process']['rlimits'] {
  const out = new Map<string, { type: string; hard: number; soft: number }>([['RLIMIT_NOFILE', { type: 'RLIMIT_NOFILE', hard: nofile, soft: nofile }]]);
  for (const u of ulimits) {
    const type = `RLIMIT_${u.name.toUpperCase()}`;
    out.set(type, { type, hard: u.hard, soft: u.soft });
  }
  return [...out.values()];
}

/** withShmSize gives /dev/shm the requested size (in KiB, as tmpfs takes it). */
function withShmSize(mount: RuntimeMount, bytes: number | undefined): RuntimeMount {
  if (bytes === undefined || mount.destination !== '/dev/shm') return mount;
  return { ...mount, options: (mount.options ?? []).map((o) => (o.startsWith('size=') ? `size=${Math.ceil(bytes / 1024)}k` : o)) };
}
