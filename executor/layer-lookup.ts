import { lstat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../base/errors.js';
import { lgetxattr } from '../native/index.js';

/** LayerLookup is where a path of a layered rootfs comes from, if anywhere. */
export type LayerLookup =
  | { readonly kind: 'found'; readonly hostPath: string; readonly stats: Stats }
  | { readonly kind: 'missing' }
  /** A parent component is not a directory (for example a symlink), so the path cannot be located without following it. */
  | { readonly kind: 'blocked'; readonly component: string; readonly hostPath: string; readonly stats: Stats };

async function lstatOrNull(p: string): Promise<Stats | null> {
  try {
    return await lstat(p);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw err;
  }
}

/** isWhiteout says whether an upper-layer entry deletes the lower ones (overlay char device 0/0). */
export function isWhiteout(stats: Stats): boolean {
  return stats.isCharacterDevice() && stats.rdev === 0;
}

function isOpaque(dir: string): boolean {
  const value = lgetxattr(dir, 'trusted.overlay.opaque') ?? lgetxattr(dir, 'user.overlay.opaque');
  return value !== undefined && value.toString() === 'y';
}

/**
 * lookupLayered finds `relPath` (relative to the rootfs) in `layers`, top layer first, honouring overlay whiteouts
 * and opaque directories. Symlinks are not followed.
 */
export async function lookupLayered(layers: readonly string[], relPath: string): Promise<LayerLookup> {
  const parts = relPath.split('/').filter((p) => p !== '' && p !== '.');
  for (const layer of layers) {
    let stop = false;
    let present = true;
    for (let i = 0; i < parts.length && present; i++) {
      const component = parts.slice(0, i + 1).join('/');
      const hostPath = path.join(layer, component);
      const stats = await lstatOrNull(hostPath);
      if (stats === null) {
        present = false;
        continue;
      }
      if (isWhiteout(stats)) return { kind: 'missing' };
      if (i === parts.length - 1) return { kind: 'found', hostPath, stats };
      if (!stats.isDirectory()) return { kind: 'blocked', component: `/${component}`, hostPath, stats };
      if (isOpaque(hostPath)) stop = true;
    }
    if (parts.length === 0) {
      const stats = await lstatOrNull(layer);
      if (stats !== null) return { kind: 'found', hostPath: layer, stats };
    }
    if (stop) return { kind: 'missing' };
  }
  return { kind: 'missing' };
}
