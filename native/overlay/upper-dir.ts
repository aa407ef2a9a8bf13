import type { Stats } from 'node:fs';
import { lstatSyncIfExists } from '../../base/fs.js';
import { lgetxattr, llistxattr, lsetxattr, makedev, mknod, S_IFCHR } from '../linux.js';
import { isRootless } from '../../base/user-namespace.js';

/**
 * overlayXattrPrefix names overlayfs's own attributes (opaque, redirect, origin …). As root, snapshots are written
 * and mounted without the `userxattr` mount option, so overlayfs reads and writes the `trusted.` namespace only: a
 * `user.overlay.*` attribute in a snapshot is a file's own attribute like any other. Rootless, `trusted.` attributes
 * need a capability of the host's user namespace, so snapshots are mounted with `userxattr` and overlayfs keeps its
 * state in `user.overlay.*` instead (a file's own `user.overlay.*` attribute cannot be kept there).
 */
export function overlayXattrPrefix(): string {
  return isRootless() ? 'user.overlay.' : 'trusted.overlay.';
}

/** opaqueXattr is the attribute that makes an upper directory opaque: nothing below it in lower layers shows. */
export function opaqueXattr(): string {
  return `${overlayXattrPrefix()}opaque`;
}
/** WHITEOUT_PREFIX marks a deleted path in an OCI layer tar: `.wh.NAME` deletes NAME. */
export const WHITEOUT_PREFIX = '.wh.';
/** OPAQUE_MARKER is the OCI layer tar entry that makes its directory opaque. */
export const OPAQUE_MARKER = '.wh..wh..opq';

/**
 * FUSE_OVERLAY_XATTR_PREFIX names fuse-overlayfs's own attributes: where it may not write `trusted.overlay.*` (rootless)
 * it marks an opaque directory with `user.fuseoverlayfs.opaque` and a copied-up file with `user.fuseoverlayfs.origin`.
 */
export const FUSE_OVERLAY_XATTR_PREFIX = 'user.fuseoverlayfs.';

/** isWhiteout tells whether an entry of an upper dir deletes the path in lower layers (a character device 0/0). */
export function isWhiteout(stats: Stats): boolean {
  return stats.isCharacterDevice() && stats.rdev === 0;
}

/**
 * UpperEntry is what one name of an upper dir stands for. The kernel's overlayfs writes a deletion as a 0/0
 * character device of the deleted name; fuse-overlayfs does too where it may make one, else it writes an empty file
 * `.wh.NAME`, and it puts a `.wh..wh..opq` file into each directory it makes opaque (besides the attribute).
 */
export type UpperEntry = { readonly kind: 'entry' } | { readonly kind: 'whiteout'; readonly name: string } | { readonly kind: 'opaque-marker' };

const ENTRY: UpperEntry = { kind: 'entry' };
const OPAQUE: UpperEntry = { kind: 'opaque-marker' };

/** classifyUpperEntry reads one name of an upper dir (its lstat): a path, a whiteout of a name, or the opaque marker. */
export function classifyUpperEntry(name: string, stats: Stats): UpperEntry {
  if (isWhiteout(stats)) return { kind: 'whiteout', name };
  if (!stats.isFile() || !name.startsWith(WHITEOUT_PREFIX)) return ENTRY;
  if (name === OPAQUE_MARKER) return OPAQUE;
  const deleted = name.slice(WHITEOUT_PREFIX.length);
  // `.wh.`, `.wh..` and `.wh...` would delete no name a directory can hold: such a file is a file.
  return deleted === '' || deleted === '.' || deleted === '..' ? ENTRY : { kind: 'whiteout', name: deleted };
}

/**
 * isOpaqueDir tells whether a directory of an upper dir hides what lower layers hold below it (not itself): the
 * kernel's attribute (opaqueXattr), fuse-overlayfs's own where it could not set that one, or its `.wh..wh..opq` file
 * where the filesystem keeps no attributes.
 */
export function isOpaqueDir(hostPath: string): boolean {
  // One listing of the names, then a value only for a name that is there: most directories have none.
  const names = llistxattr(hostPath);
  for (const name of [opaqueXattr(), `${FUSE_OVERLAY_XATTR_PREFIX}opaque`]) {
    if (names.includes(name) && lgetxattr(hostPath, name)?.toString('utf8') === 'y') return true;
  }
  return lstatSyncIfExists(`${hostPath}/${OPAQUE_MARKER}`)?.isFile() === true;
}


/** isOverlayXattr tells whether an attribute is overlayfs's (or fuse-overlayfs's) state of a layer rather than the file's own. */
export function isOverlayXattr(name: string): boolean {
  return name.startsWith(overlayXattrPrefix()) || name.startsWith(FUSE_OVERLAY_XATTR_PREFIX);
}

/** makeWhiteout creates a whiteout at a free path of an upper dir. */
export function makeWhiteout(hostPath: string): void {
  mknod(hostPath, S_IFCHR, makedev(0, 0));
}

/** markOpaque makes a directory of an upper dir opaque. */
export function markOpaque(hostPath: string): void {
  lsetxattr(hostPath, opaqueXattr(), Buffer.from('y'));
}

/** whiteoutTarName is the layer tar name of the whiteout of `name` (a base name). */
export function whiteoutTarName(name: string): string {
  return `${WHITEOUT_PREFIX}${name}`;
}

/** TarMarker is what a layer tar entry's base name says about overlay state, if anything. */
export type TarMarker = { readonly kind: 'opaque' } | { readonly kind: 'whiteout'; readonly name: string };

/** parseTarMarker reads a layer tar entry's base name: the opaque marker, a whiteout of a name, or undefined. */
export function parseTarMarker(baseName: string): TarMarker | undefined {
  if (baseName === OPAQUE_MARKER) return { kind: 'opaque' };
  if (baseName.startsWith(WHITEOUT_PREFIX)) return { kind: 'whiteout', name: baseName.slice(WHITEOUT_PREFIX.length) };
  return undefined;
}
