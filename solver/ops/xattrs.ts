import { constants } from 'node:os';
import { NativeError } from '../../base/errors.js';
import { isOverlayXattr, lgetxattr, llistxattr, lsetxattr } from '../../native/index.js';

/** Errors of a target that cannot hold an attribute (user.* on a symlink, an unsupported namespace). */
const UNSUPPORTED = new Set<number>([constants.errno.ENOTSUP, constants.errno.EPERM]);

/**
 * copyXattrs gives `to` the extended attributes of `from` (security.capability, user.*, …), as BuildKit's copy does.
 * Call it after the owner is set: a chown clears security.capability. An attribute the target cannot hold is left
 * out, as BuildKit's copy logs and skips it; any other failure fails the copy.
 */
export function copyXattrs(from: string, to: string): void {
  for (const name of llistxattr(from)) {
    // Overlay's own attributes mark opaque folders and redirects of a layer: they belong to the layer, not the file.
    if (isOverlayXattr(name)) continue;
    const value = lgetxattr(from, name);
    if (value === undefined) continue;
    try {
      lsetxattr(to, name, value);
    } catch (error) {
      if (!(error instanceof NativeError && UNSUPPORTED.has(error.errno))) throw error;
    }
  }
}
