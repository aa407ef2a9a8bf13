import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { readTextIfExists } from '../base/fs.js';

/** CgroupController is a cgroup controller tbuild limits or measures. */
export type CgroupController = 'memory' | 'pids' | 'cpu' | 'cpuacct' | 'devices';

/**
 * CgroupLayout says where per-exec cgroups go: under one cgroup2 directory, under one directory per cgroup v1
 * hierarchy (the directory of this process's own cgroup in it), or nowhere when no usable hierarchy is mounted.
 */
export type CgroupLayout =
  | { readonly version: 2; readonly parent: string }
  | { readonly version: 1; readonly parents: ReadonlyMap<CgroupController, string> }
  | { readonly version: 0 };

// devices exists on cgroup v1 only: cgroup2 filters devices with a BPF program, which tbuild does not load.
const CONTROLLERS: readonly CgroupController[] = ['memory', 'pids', 'cpu', 'cpuacct', 'devices'];
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

/** detectCgroupLayout finds the cgroup hierarchies to put execs in: cgroup2 when it has the controllers, else v1. */
export async function detectCgroupLayout(): Promise<CgroupLayout> {
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
    if (V2_NEEDED.every((c) => controllers.includes(c))) return { version: 2, parent: path.join(m.mountPoint, 'tbuild') };
  }
  const parents = new Map<CgroupController, string>();
  for (const m of mounts.filter((e) => e.fsType === 'cgroup')) {
    for (const c of CONTROLLERS) {
      const ownPath = own.get(c);
      if (m.superOptions.includes(c) && ownPath !== undefined) parents.set(c, path.join(ownCgroupDir(m, ownPath), 'tbuild'));
    }
  }
  return parents.size === 0 ? { version: 0 } : { version: 1, parents };
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
