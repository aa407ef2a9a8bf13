import { access, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode, NativeError } from '../base/errors.js';
import { umount2, UMOUNT_FLAGS } from '../native/index.js';
import { removeBundleDir } from './bundle.js';
import { killPid } from './child-process.js';
import { FUSE_OVERLAYFS } from './overlay-driver.js';
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

/** detachBundleMounts detaches what a bundle may still have mounted on the host: its rootfs and RUN --mount stages. */
async function detachBundleMounts(bundleDir: string, fixed: readonly string[] = ['rootfs']): Promise<void> {
  const names = [...fixed, ...(await readdir(bundleDir)).filter((n) => n.startsWith('mnt-'))];
  for (const name of names) {
    try {
      // A host-mounted overlay (runc executor, fuse-overlayfs) outlives its process; the helper's died with its namespace.
      umount2(path.join(bundleDir, name), UMOUNT_FLAGS.DETACH);
    } catch (err) {
      if (!(err instanceof NativeError && (err.errno === EINVAL || err.errno === ENOENT))) throw err;
    }
  }
}

/** readCmdline reads a process's arguments, or undefined when it ended meanwhile or is not readable. */
async function readCmdline(pid: string): Promise<string[] | undefined> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter((a) => a !== '');
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ESRCH' || code === 'EACCES') return undefined;
    throw err;
  }
}

/**
 * killStaleFuseOverlays ends the fuse-overlayfs processes serving a mount in a bundle of a dead process. Rootless, a
 * killed tbuild's mounts live on in its mount namespace, which such a process keeps alive, out of this one's reach.
 */
async function killStaleFuseOverlays(stateDir: string, stale: ReadonlySet<string>): Promise<void> {
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const argv = await readCmdline(pid);
    if (argv === undefined || path.basename(argv[0] ?? '') !== FUSE_OVERLAYFS) continue;
    const bundle = path.relative(stateDir, argv[argv.length - 1] ?? '').split('/')[0] ?? '';
    if (stale.has(bundle)) killPid(Number(pid));
  }
}

/**
 * sweepStateDir removes what executors of dead processes left behind: bundles named `exec-<pid>-*` in stateDir (their
 * mounts detached first, and the fuse-overlayfs processes serving them ended) and exec cgroups named `<pid>-*` under
 * tbuild's cgroup parents.
 */
export async function sweepStateDir(stateDir: string, layout: CgroupLayout): Promise<void> {
  let entries: string[] = [];
  try {
    entries = await readdir(stateDir);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
  const stale = new Set<string>();
  for (const name of entries) if (await isStale(name, 'exec-')) stale.add(name);
  for (const name of stale) await detachBundleMounts(path.join(stateDir, name));
  if (stale.size > 0) await killStaleFuseOverlays(stateDir, stale);
  for (const name of stale) await removeBundleDir(path.join(stateDir, name));
  // A trial overlayfs mount (see probeKernelOverlay) its process did not live to remove.
  for (const name of entries) {
    if (!(await isStale(name, 'overlay-probe-'))) continue;
    await detachBundleMounts(path.join(stateDir, name), ['merged']);
    await removeBundleDir(path.join(stateDir, name));
  }
  for (const parent of cgroupParents(layout)) {
    for (const name of await listCgroupChildren(parent)) {
      if (await isStale(name, '')) await removeCgroupDir(path.join(parent, name));
    }
  }
}
