import type { Stats } from 'node:fs';
import { lgetxattr, lsetxattr, makedev, mknod, S_IFCHR } from '../linux.js';
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

/** isWhiteout tells whether an entry of an upper dir deletes the path in lower layers (a character device 0/0). */
export function isWhiteout(stats: Stats): boolean {
  return stats.isCharacterDevice() && stats.rdev === 0;
}

/** isOpaqueDir tells whether a directory of an upper dir hides what lower layers hold below it (not itself). */
export function isOpaqueDir(hostPath: string): boolean {
  return lgetxattr(hostPath, opaqueXattr())?.toString('utf8') === 'y';
}

/** isOverlayXattr tells whether an attribute is overlayfs's state of a layer rather than the file's own. */
export function isOverlayXattr(name: string): boolean {
  return name.startsWith(overlayXattrPrefix());
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
