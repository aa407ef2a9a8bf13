import { lstatSync, readdirSync, rmSync, utimesSync, type Stats } from 'node:fs';
import { posix } from 'node:path';
import { NativeError } from '../../base/errors.js';
import { lstatSyncIfExists } from '../../base/fs.js';
import { llistxattr, lremovexattr } from '../linux.js';
import { LayeredTree } from './layered-lookup.js';
import { classifyUpperEntry, FUSE_OVERLAY_XATTR_PREFIX, isOpaqueDir, makeWhiteout, markOpaque, OPAQUE_MARKER, opaqueXattr } from './upper-dir.js';

const EPERM = 1;
const ENOTSUP = 95;
const FUSE_OPAQUE_XATTR = `${FUSE_OVERLAY_XATTR_PREFIX}opaque`;

/**
 * normalizeFuseUpper makes an upper dir fuse-overlayfs wrote say what the kernel's overlayfs would have written for
 * the same changes, so a layer made from it is the same bytes: fuse-overlayfs marks every directory it creates
 * opaque and may write whiteouts of names no lower layer holds, where the kernel marks a directory opaque, and
 * writes a whiteout, only over something the lower layers show. Such marks hide nothing; they are removed. Marks over
 * something below take the kernel's form where the filesystem lets them (a 0/0 device for a `.wh.NAME` file, the
 * kernel's opaque attribute for fuse-overlayfs's and its `.wh..wh..opq` file), so the snapshot reads the same when
 * the kernel's overlayfs mounts it later; else they stay as they are, which tbuild's readers understand too.
 * Directories keep their times.
 *
 * The upper dir is listed synchronously, as the layer walk does; lower layers are looked up once a path (cached).
 */
export async function normalizeFuseUpper(upper: string, lowerdirs: readonly string[]): Promise<void> {
  const below = new LayeredTree(lowerdirs);
  const pending: { rel: string; lowerShows: boolean }[] = [{ rel: '', lowerShows: lowerdirs.length > 0 }];
  for (let dir = pending.pop(); dir !== undefined; dir = pending.pop()) {
    const abs = dir.rel === '' ? upper : posix.join(upper, dir.rel);
    const dirStats = lstatSync(abs);
    let touched = false;
    for (const name of readdirSync(abs)) {
      const path = posix.join(abs, name);
      const stats = lstatSync(path);
      const kind = classifyUpperEntry(name, stats);
      if (kind.kind === 'opaque-marker') continue;
      const target = kind.kind === 'whiteout' ? kind.name : name;
      const shown = dir.lowerShows && (await below.lookup(posix.join(dir.rel, target))).kind === 'found';
      if (kind.kind === 'whiteout') {
        if (!shown) rmSync(path);
        const changed = !shown || (stats.isFile() && toWhiteoutDevice(posix.join(abs, kind.name), path));
        touched ||= changed;
        continue;
      }
      if (!stats.isDirectory()) continue;
      const opaque = isOpaqueDir(path);
      if (opaque && !shown) clearOpaque(path, stats);
      else if (opaque) toKernelOpaque(path, stats);
      pending.push({ rel: posix.join(dir.rel, name), lowerShows: shown && !opaque });
    }
    if (touched) keepTimes(abs, dirStats);
  }
}

/** isRefused tells an error of a filesystem or namespace that may not hold a device or an attribute. */
function isRefused(err: unknown): boolean {
  return err instanceof NativeError && (err.errno === EPERM || err.errno === ENOTSUP);
}

/** toWhiteoutDevice replaces a `.wh.NAME` file by a 0/0 device NAME, when one may be made; true when it was. */
function toWhiteoutDevice(device: string, file: string): boolean {
  try {
    makeWhiteout(device);
  } catch (err) {
    if (isRefused(err)) return false;
    throw err;
  }
  rmSync(file);
  return true;
}

/** toKernelOpaque gives an opaque directory the kernel's attribute instead of fuse-overlayfs's marks, when it may. */
function toKernelOpaque(path: string, stats: Stats): void {
  const attrs = llistxattr(path);
  const marker = posix.join(path, OPAQUE_MARKER);
  const hasMarker = lstatSyncIfExists(marker)?.isFile() === true;
  if (!attrs.includes(FUSE_OPAQUE_XATTR) && !hasMarker) return;
  if (!attrs.includes(opaqueXattr())) {
    try {
      markOpaque(path);
    } catch (err) {
      if (isRefused(err)) return;
      throw err;
    }
  }
  if (attrs.includes(FUSE_OPAQUE_XATTR)) lremovexattr(path, FUSE_OPAQUE_XATTR);
  if (hasMarker) rmSync(marker);
  keepTimes(path, stats);
}

/** clearOpaque removes a directory's opaque marks (attributes and marker file), keeping its times. */
function clearOpaque(path: string, stats: Stats): void {
  for (const attr of llistxattr(path)) {
    if (attr === opaqueXattr() || attr === FUSE_OPAQUE_XATTR) lremovexattr(path, attr);
  }
  rmSync(posix.join(path, OPAQUE_MARKER), { force: true });
  keepTimes(path, stats);
}

/** keepTimes sets a directory's times back (to well under a microsecond: utimes takes seconds as a double). */
function keepTimes(path: string, stats: Stats): void {
  utimesSync(path, stats.atimeMs / 1000, stats.mtimeMs / 1000);
}
