import { execFile } from 'node:child_process';
import { InternalError, NativeError, SnapshotError } from '../base/errors.js';
import { isRootless } from '../base/user-namespace.js';
import { mount, normalizeFuseUpper, umount2, UMOUNT_FLAGS } from '../native/index.js';
import { FUSE_OVERLAYFS, type OverlayDriver } from './overlay-driver.js';
import { overlayOptions, type OverlayLayers } from './spec.js';
import type { OverlayMount } from './types.js';

const EBUSY = 16;

/** runMounter runs mount(8) or fuse-overlayfs, which returns once the overlay is mounted. */
function runMounter(file: string, args: readonly string[], what: string, cwd?: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    // Not interrupted: a mount that went through must be known to be unmounted, and it takes moments.
    execFile(file, [...args], cwd === undefined ? {} : { cwd }, (err, _stdout, stderr) => {
      if (err === null) resolve();
      else reject(new SnapshotError(`Cannot mount ${what}: ${stderr.trim() || err.message}`, { cause: err }));
    });
  });
}

/**
 * mountFuseOverlay mounts the layers with fuse-overlayfs: the same lowerdir, upperdir and workdir, given on its
 * command line (no page limit, so absolute paths always). As root of its namespace it adds `allow_other`, so the
 * sandbox's other users reach the files, and checks permissions as the kernel's overlayfs does.
 */
export async function mountFuseOverlay(target: string, layers: OverlayLayers): Promise<void> {
  const dirs = [...layers.lowerdirs, layers.upperdir, layers.workdir];
  // fuse-overlayfs splits its options at "," and lowerdir at ":"; the store's own paths have neither.
  const bad = dirs.find((d) => /[,:]/.test(d));
  if (bad !== undefined) throw new SnapshotError(`Cannot mount "${bad}" with ${FUSE_OVERLAYFS}: its path holds "," or ":"`);
  const options = `lowerdir=${layers.lowerdirs.join(':')},upperdir=${layers.upperdir},workdir=${layers.workdir}`;
  await runMounter(FUSE_OVERLAYFS, ['-o', options, target], `${layers.lowerdirs.length} layers at "${target}" with ${FUSE_OVERLAYFS}`);
}

/**
 * mountOverlay mounts an overlay on the host with a driver. With the kernel's, when the layers' absolute paths do not
 * fit in the mount data, their paths relative to a common folder do: mount(8) then mounts with that folder as its own
 * working folder, so relative lowerdirs resolve there and this process's working folder, shared by every build, never
 * changes.
 */
export async function mountOverlay(target: string, layers: OverlayLayers, driver: OverlayDriver = 'kernel'): Promise<void> {
  if (driver === 'fuse') return mountFuseOverlay(target, layers);
  const { options: data, basedir } = overlayOptions(layers, isRootless());
  if (basedir === undefined) {
    mount('overlay', target, 'overlay', 0, data.join(','));
    return;
  }
  await runMounter('mount', ['-t', 'overlay', 'overlay', '-o', data.join(','), target], `${layers.lowerdirs.length} layers at "${target}"`, basedir);
}

/**
 * unmountOverlay unmounts an overlay mounted on the host. A fuse-overlayfs process ends once its mount is gone; the
 * sandbox's processes have ended, so every write reached the upper dir.
 */
export function unmountOverlay(dir: string): void {
  try {
    umount2(dir);
  } catch (err) {
    if (!(err instanceof NativeError && err.errno === EBUSY)) throw err;
    // Something still holds it (a process leaving late): detach so it goes away when released.
    umount2(dir, UMOUNT_FLAGS.DETACH);
  }
}

/** HostOverlays are the rootfs and RUN --mount overlays of one bundle, mounted on the host; disposing unmounts them. */
export interface HostOverlays extends AsyncDisposable {
  readonly mounted: readonly string[];
  /**
   * finish unmounts them once the sandbox ended well, and makes the rootfs's upper dir say what the kernel's overlayfs
   * would have written (see normalizeFuseUpper) when fuse-overlayfs wrote it.
   */
  finish(): Promise<void>;
}

/**
 * mountHostOverlays mounts a bundle's rootfs on its rootfs folder and each staged RUN --mount overlay on its stage
 * folder, for a sandbox that binds what it is given (an OCI runtime, or tbuild's helper with fuse-overlayfs). What
 * was mounted is unmounted when a later mount fails.
 */
export async function mountHostOverlays(
  bundle: { readonly rootfsDir: string; readonly lowerdirs: readonly string[]; readonly overlays: readonly OverlayMount[] },
  rootfs: { readonly upperdir: string; readonly workdir: string },
  driver: OverlayDriver,
): Promise<HostOverlays> {
  const mounted: string[] = [];
  const unmountAll = (): void => {
    for (const dir of mounted.reverse()) unmountOverlay(dir);
    mounted.length = 0;
  };
  try {
    await mountOverlay(bundle.rootfsDir, { lowerdirs: bundle.lowerdirs, upperdir: rootfs.upperdir, workdir: rootfs.workdir }, driver);
    mounted.push(bundle.rootfsDir);
    for (const m of bundle.overlays) {
      if (m.stageDir === undefined) throw new InternalError(`The overlay mount at "${m.target}" has no stage directory`);
      await mountOverlay(m.stageDir, m, driver);
      mounted.push(m.stageDir);
    }
  } catch (err) {
    unmountAll();
    throw err;
  }
  return {
    mounted,
    finish: async () => {
      unmountAll();
      // The RUN --mount overlays' upper dirs are thrown away: only the rootfs's becomes a layer.
      if (driver === 'fuse') await normalizeFuseUpper(rootfs.upperdir, bundle.lowerdirs);
    },
    [Symbol.asyncDispose]: async () => unmountAll(),
  };
}
