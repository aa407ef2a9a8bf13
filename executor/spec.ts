import type { ExecMount, NetworkMode, ResolvedUser } from './types.js';

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
    readonly terminal: false;
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
    readonly namespaces: readonly { readonly type: string }[];
    readonly maskedPaths: readonly string[];
    readonly readonlyPaths: readonly string[];
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
  readonly hostname: string;
  readonly network: NetworkMode;
  readonly root: SpecRoot;
  /** Extra mounts, after the standard ones, in order (e.g. /etc/resolv.conf, /etc/hosts, RUN --mount). */
  readonly mounts: readonly ExecMount[];
  /** RLIMIT_NOFILE soft and hard value; defaults to 1048576. */
  readonly nofile?: number;
}

/** DEFAULT_CAPABILITIES is Docker's default capability set (CapEff 00000000a80425fb). */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
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

const STANDARD_MOUNTS: readonly RuntimeMount[] = [
  { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
  { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
  {
    destination: '/dev/pts',
    type: 'devpts',
    source: 'devpts',
    options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
  },
  { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
  { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
  { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
];

/** STANDARD_MOUNT_POINTS are the directories the standard mounts need in the rootfs. */
export const STANDARD_MOUNT_POINTS: readonly string[] = ['/proc', '/dev', '/sys'];

function rootMounts(root: SpecRoot): RuntimeMount[] {
  if (root.kind === 'prepared') return [];
  return [{ destination: '/', type: 'overlay', source: 'overlay', options: overlayOptions(root) }];
}

/** overlayOptions returns the overlay mount options; a scratch rootfs must pass at least one lowerdir. */
export function overlayOptions(root: { lowerdirs: readonly string[]; upperdir: string; workdir: string }): string[] {
  return [`lowerdir=${root.lowerdirs.join(':')}`, `upperdir=${root.upperdir}`, `workdir=${root.workdir}`];
}

function execMount(m: ExecMount): RuntimeMount {
  switch (m.kind) {
    case 'bind':
      return { destination: m.target, type: 'bind', source: m.source, options: ['rbind', m.readonly ? 'ro' : 'rw', 'nosuid', 'nodev'] };
    case 'tmpfs': {
      const size = m.sizeBytes === undefined ? [] : [`size=${m.sizeBytes}`];
      return { destination: m.target, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777', ...size] };
    }
    case 'overlay': {
      // The helper mounts the overlay on x-stage inside its namespace, then binds `source` (stage + subpath) to target.
      const stage = m.stageDir ?? '';
      const source = m.subpath === undefined || m.subpath === '' ? stage : `${stage}/${m.subpath.replace(/^\/+/, '')}`;
      const options = [...overlayOptions(m), `x-stage=${stage}`, ...(m.readonly ? ['ro'] : []), 'nosuid', 'nodev'];
      return { destination: m.target, type: 'overlay', source, options };
    }
  }
}

function withPath(env: readonly string[]): string[] {
  return env.some((e) => e.startsWith('PATH=')) ? [...env] : [DEFAULT_PATH, ...env];
}

/** buildRuntimeSpec returns the OCI runtime spec for one exec, as plain data. */
export function buildRuntimeSpec(input: SpecInput): RuntimeSpec {
  const nofile = input.nofile ?? DEFAULT_NOFILE;
  // Like Docker, a non-root user starts with no effective or permitted capabilities; the bounding set stays.
  const privileged = input.user.uid === 0 ? DEFAULT_CAPABILITIES : [];
  const namespaces = ['pid', 'ipc', 'uts', 'mount', ...(input.network === 'none' ? ['network'] : [])];
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: input.user.uid, gid: input.user.gid, additionalGids: [...input.user.additionalGids] },
      args: [...input.args],
      env: withPath(input.env),
      cwd: input.cwd === '' ? '/' : input.cwd,
      capabilities: {
        bounding: DEFAULT_CAPABILITIES,
        effective: privileged,
        inheritable: [],
        permitted: privileged,
        ambient: [],
      },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: nofile, soft: nofile }],
      noNewPrivileges: false,
    },
    root: { path: 'rootfs', readonly: false },
    hostname: input.hostname,
    mounts: [...rootMounts(input.root), ...STANDARD_MOUNTS, ...input.mounts.map(execMount)],
    linux: {
      namespaces: namespaces.map((type) => ({ type })),
      maskedPaths: MASKED_PATHS,
      readonlyPaths: READONLY_PATHS,
    },
  };
}
