import { access, readdir } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode, NativeError } from '../base/errors.js';
import { umount2, UMOUNT_FLAGS } from '../native/index.js';
import { removeBundleDir } from './bundle.js';
import { cgroupParents, listCgroupChildren, removeCgroupDir } from './cgroup.js';
import type { CgroupLayout } from './cgroup-layout.js';

const EINVAL = 22;
const ENOENT = 2;

/** isProcessAlive says whether a pid exists on this host. */
async function isProcessAlive(pid: number): Promise<boolean> {
  try {
    await access(`/proc/${pid}`);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
  }
}

/** ownerPid reads the creating process id from an entry named `<prefix><pid>-...`. */
function ownerPid(name: string, prefix: string): number | undefined {
  const m = new RegExp(`^${prefix}(\\d+)-`).exec(name);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

async function isStale(name: string, prefix: string): Promise<boolean> {
  const pid = ownerPid(name, prefix);
  return pid !== undefined && pid !== process.pid && !(await isProcessAlive(pid));
}

function detachRootfs(bundleDir: string): void {
  try {
    // A host-mounted rootfs (runc executor) outlives its process; the helper's mounts died with its namespace.
    umount2(path.join(bundleDir, 'rootfs'), UMOUNT_FLAGS.DETACH);
  } catch (err) {
    if (!(err instanceof NativeError && (err.errno === EINVAL || err.errno === ENOENT))) throw err;
  }
}

/**
 * sweepStateDir removes what executors of dead processes left behind: bundles named `exec-<pid>-*` in stateDir and
 * exec cgroups named `<pid>-*` under tbuild's cgroup parents.
 */
export async function sweepStateDir(stateDir: string, layout: CgroupLayout): Promise<void> {
  let entries: string[] = [];
  try {
    entries = await readdir(stateDir);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
  for (const name of entries) {
    if (!(await isStale(name, 'exec-'))) continue;
    const dir = path.join(stateDir, name);
    detachRootfs(dir);
    await removeBundleDir(dir);
  }
  for (const parent of cgroupParents(layout)) {
    for (const name of await listCgroupChildren(parent)) {
      if (await isStale(name, '')) await removeCgroupDir(path.join(parent, name));
    }
  }
}
