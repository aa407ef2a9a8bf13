import { lstatSync, readdirSync, rmSync, utimesSync, type Stats } from 'node:fs';
import { posix } from 'node:path';
import { llistxattr, lremovexattr } from '../linux.js';
import { LayeredTree } from './layered-lookup.js';
import { classifyUpperEntry, FUSE_OVERLAY_XATTR_PREFIX, isOpaqueDir, OPAQUE_MARKER, opaqueXattr } from './upper-dir.js';

/**
 * normalizeFuseUpper makes an upper dir fuse-overlayfs wrote say what the kernel's overlayfs would have written for
 * the same changes, so a layer made from it is the same bytes: fuse-overlayfs marks every directory it creates
 * opaque and may write whiteouts of names no lower layer holds, where the kernel marks a directory opaque, and
 * writes a whiteout, only over something the lower layers show. Such marks hide nothing; they are removed, and
 * their directories keep their times. Marks over something below stay in the form fuse-overlayfs wrote them.
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
        if (!shown) {
          rmSync(path);
          touched = true;
        }
        continue;
      }
      if (!stats.isDirectory()) continue;
      const opaque = isOpaqueDir(path);
      if (opaque && !shown) clearOpaque(path, stats);
      pending.push({ rel: posix.join(dir.rel, name), lowerShows: shown && !opaque });
    }
    if (touched) keepTimes(abs, dirStats);
  }
}

/** clearOpaque removes a directory's opaque marks (attributes and marker file), keeping its times. */
function clearOpaque(path: string, stats: Stats): void {
  for (const attr of llistxattr(path)) {
    if (attr === opaqueXattr() || attr === `${FUSE_OVERLAY_XATTR_PREFIX}opaque`) lremovexattr(path, attr);
  }
  rmSync(posix.join(path, OPAQUE_MARKER), { force: true });
  keepTimes(path, stats);
}

/** keepTimes sets a directory's times back (to well under a microsecond: utimes takes seconds as a double). */
function keepTimes(path: string, stats: Stats): void {
  utimesSync(path, stats.atimeMs / 1000, stats.mtimeMs / 1000);
}
