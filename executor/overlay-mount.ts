import { execFile } from 'node:child_process';
import { SnapshotError } from '../base/errors.js';
import { isRootless } from '../base/user-namespace.js';
import { mount } from '../native/index.js';
import { overlayOptions, type OverlayLayers } from './spec.js';

/**
 * mountOverlay mounts an overlay on the host. When the layers' absolute paths do not fit in the mount data, their
 * paths relative to a common folder do: mount(8) then mounts with that folder as its own working folder, so
 * relative lowerdirs resolve there and this process's working folder, shared by every build, never changes.
 */
export async function mountOverlay(target: string, layers: OverlayLayers): Promise<void> {
  const { options: data, basedir } = overlayOptions(layers, isRootless());
  if (basedir === undefined) {
    mount('overlay', target, 'overlay', 0, data.join(','));
    return;
  }
  await new Promise<void>((resolve, reject) => {
    // Not interrupted: a mount that went through must be known to be unmounted, and it takes moments.
    execFile('mount', ['-t', 'overlay', 'overlay', '-o', data.join(','), target], { cwd: basedir }, (err, _stdout, stderr) => {
      if (err === null) resolve();
      else reject(new SnapshotError(`Cannot mount ${layers.lowerdirs.length} layers at "${target}": ${stderr.trim() || err.message}`, { cause: err }));
    });
  });
}
