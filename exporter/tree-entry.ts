import type { Stats } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { OPAQUE_XATTR } from '../cache/index.js';
import { lgetxattr } from '../native/index.js';

/** TreeEntry is one path of a snapshot (or merged snapshots) met during a sorted walk. */
export interface TreeEntry {
  /** rel is the slash-separated path below the root, without a leading "./". */
  readonly rel: string;
  /** source is the absolute path the entry's content and metadata come from. */
  readonly source: string;
  readonly stat: Stats;
  /** whiteout is true for an overlayfs whiteout (character device 0/0). */
  readonly whiteout: boolean;
  /** opaque is true for a directory carrying trusted.overlay.opaque=y. */
  readonly opaque: boolean;
}

/** isWhiteout tells whether a stat describes an overlayfs whiteout. */
export function isWhiteout(stat: Stats): boolean {
  return stat.isCharacterDevice() && stat.rdev === 0;
}

/** isOpaqueDir tells whether a directory carries the overlayfs opaque xattr. */
export function isOpaqueDir(path: string): boolean {
  return lgetxattr(path, OPAQUE_XATTR)?.toString('utf8') === 'y';
}

/** sortedNames lists a directory's names in a stable (code unit) order. */
export async function sortedNames(dir: string): Promise<string[]> {
  const names = await readdir(dir);
  return names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
