import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { readTextIfExists } from '../base/fs.js';
import { isRootless } from '../base/user-namespace.js';

/** CgroupController is a cgroup controller tbuild limits or measures. */
export type CgroupController = 'memory' | 'pids' | 'cpu' | 'cpuacct' | 'devices' | 'cpuset';

/**
 * CgroupLayout says where per-exec cgroups go: under one cgroup2 directory, under one directory per cgroup v1
 * hierarchy (the directory of this process's own cgroup in it), or nowhere when no usable hierarchy is mounted. Each
 * hierarchy's root (where it is mounted) is kept for cgroup parents, which are paths from there.
 */
export type CgroupLayout =
  | { readonly version: 2; readonly parent: string; readonly root: string }
  | { readonly version: 1; readonly parents: ReadonlyMap<CgroupController, string>; readonly roots: ReadonlyMap<CgroupController, string> }
  | { readonly version: 0; readonly rootless?: boolean };

// devices exists on cgroup v1 only: cgroup2 filters devices with a BPF program, which tbuild does not load. A v1
// cpuset cgroup is made only for an exec limited to some CPUs: a new one has no CPUs until they are written to it.
const CONTROLLERS: readonly CgroupController[] = ['memory', 'pids', 'cpu', 'cpuacct', 'devices', 'cpuset'];
const V2_NEEDED = ['memory', 'pids'];

interface MountEntry {
  readonly root: string;
  readonly mountPoint: string;
  readonly fsType: string;
  readonly superOptions: readonly string[];
}

function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const [left, right] = line.split(' - ');
    if (left === undefined || right === undefined) continue;
    const f = left.split(' ');
    const r = right.split(' ');
    out.push({ root: f[3] ?? '/', mountPoint: f[4] ?? '', fsType: r[0] ?? '', superOptions: (r[2] ?? '').split(',') });
  }
  return out;
}

/** ownCgroupDir joins a hierarchy's mount point with this process's cgroup path inside it. */
function ownCgroupDir(mount: MountEntry, ownPath: string): string {
  const inside = mount.root !== '/' && ownPath.startsWith(mount.root) ? ownPath.slice(mount.root.length) : ownPath;
  return path.join(mount.mountPoint, inside);
}

/**
 * detectCgroupLayout finds the cgroup hierarchies to put execs in: cgroup2 when it has the controllers, else v1;
 * none rootless, where cgroups belong to the host's root (a delegated cgroup2 subtree is not used yet).
 */
export async function detectCgroupLayout(): Promise<CgroupLayout> {
  if (isRootless()) return { version: 0, rootless: true };
  const mounts = parseMountinfo(await readFile('/proc/self/mountinfo', 'utf8'));
  const own = new Map<string, string>();
  for (const line of (await readFile('/proc/self/cgroup', 'utf8')).split('\n')) {
    const [, controllers, p] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
    if (controllers === undefined || p === undefined) continue;
    for (const c of controllers === '' ? ['<v2>'] : controllers.split(',')) own.set(c, p);
  }
  for (const m of mounts.filter((e) => e.fsType === 'cgroup2')) {
    const controllers = ((await readTextIfExists(path.join(m.mountPoint, 'cgroup.controllers'))) ?? '').trim().split(/\s+/);
    // A cgroup2 root accepts controllers for its children; a nested cgroup with processes would not (no internal processes).
    if (V2_NEEDED.every((c) => controllers.includes(c))) return { version: 2, parent: path.join(m.mountPoint, 'tbuild'), root: m.mountPoint };
  }
  const parents = new Map<CgroupController, string>();
  const roots = new Map<CgroupController, string>();
  for (const m of mounts.filter((e) => e.fsType === 'cgroup')) {
    for (const c of CONTROLLERS) {
      const ownPath = own.get(c);
      if (!m.superOptions.includes(c) || ownPath === undefined) continue;
      parents.set(c, path.join(ownCgroupDir(m, ownPath), 'tbuild'));
      roots.set(c, m.mountPoint);
    }
  }
  return parents.size === 0 ? { version: 0 } : { version: 1, parents, roots };
}

/**
 * cgroupParentPath reads a cgroup parent as BuildKit joins it: a path from the hierarchy's root whatever its leading
 * slash, with `..` kept inside the hierarchy.
 */
export function cgroupParentPath(cgroupParent: string): string {
  return path.posix.join('/', cgroupParent).slice(1).replace(/\/+$/, '');
}

/** underCgroupParent is the layout of execs under a cgroup parent: a `tbuild` folder in it, in every hierarchy. */
export function underCgroupParent(layout: CgroupLayout, cgroupParent: string): CgroupLayout {
  const rel = cgroupParentPath(cgroupParent);
  switch (layout.version) {
    case 2:
      return { ...layout, parent: path.join(layout.root, rel, 'tbuild') };
    case 1:
      return { ...layout, parents: new Map([...layout.roots].map(([c, root]) => [c, path.join(root, rel, 'tbuild')])) };
    case 0:
      return layout;
  }
}

/** cgroupRoots lists where every cgroup hierarchy is mounted, v1 and v2, with or without controllers tbuild uses. */
export async function cgroupRoots(): Promise<string[]> {
  const mounts = parseMountinfo(await readFile('/proc/self/mountinfo', 'utf8'));
  return [...new Set(mounts.filter((m) => m.fsType === 'cgroup' || m.fsType === 'cgroup2').map((m) => m.mountPoint))];
}

/**
 * isCgroupHybrid tells whether cgroup v1 hierarchies sit at /sys/fs/cgroup while a cgroup2 hierarchy is mounted
 * elsewhere (systemd's hybrid mode), the layout crun refuses to run on.
 */
export async function isCgroupHybrid(): Promise<boolean> {
  const mounts = parseMountinfo(await readFile('/proc/self/mountinfo', 'utf8'));
  // The last entry for a mount point is the one on top.
  const top = mounts.filter((m) => m.mountPoint === '/sys/fs/cgroup').at(-1);
  return top?.fsType !== 'cgroup2' && mounts.some((m) => m.fsType === 'cgroup2');
}
