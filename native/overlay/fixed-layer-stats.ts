import type { Stats } from 'node:fs';
import { posix } from 'node:path';
import { LRUCache } from 'lru-cache';
import { lstatIfExists } from '../../base/fs.js';
import { isOpaqueDir } from './upper-dir.js';

/** LayerReads are the two questions a lookup asks of a layer's directories. */
export interface LayerReads {
  /** stat lstats a path of a layer: undefined when it is missing. */
  readonly stat: (hostPath: string) => Promise<Stats | undefined>;
  /** isOpaqueDir tells whether a directory of a layer hides what lower layers hold below it (see upper-dir.ts). */
  readonly isOpaqueDir: (hostPath: string) => boolean;
}

/** PLAIN_LAYER_READS asks the filesystem each time. */
export const PLAIN_LAYER_READS: LayerReads = { stat: lstatIfExists, isOpaqueDir };

/**
 * What lstat found at paths inside layers that never change (committed ones), for every lookup of this process: each RUN
 * looks its mount points and /etc files up through every layer below it, one lstat a layer, so a step on a chain of
 * forty layers would otherwise ask the same forty questions again. `false` is a path found missing. Layer directories
 * are named once and removed whole, so an entry is never wrong; a removed layer's entries are only never asked for again.
 */
const FIXED = new LRUCache<string, Stats | false>({ max: 20_000 });
/** Whether each directory of a layer that never changes is opaque, for the same reason. */
const FIXED_OPAQUE = new LRUCache<string, boolean>({ max: 20_000 });

/**
 * fixedLayerReads are LayerReads that remember what they find inside `fixedRoots` (layer directories that never
 * change) and ask the filesystem each time for every other path. A path counts as inside them when it is one of them,
 * or when its parent directory was found there.
 */
export function fixedLayerReads(fixedRoots: readonly string[]): LayerReads {
  const roots = new Set(fixedRoots);
  const dirs = new Set<string>();
  return {
    stat: async (hostPath) => {
      if (!roots.has(hostPath) && !dirs.has(posix.dirname(hostPath))) return lstatIfExists(hostPath);
      let found = FIXED.get(hostPath);
      if (found === undefined) {
        found = (await lstatIfExists(hostPath)) ?? false;
        FIXED.set(hostPath, found);
      }
      if (found === false) return undefined;
      if (found.isDirectory()) dirs.add(hostPath);
      return found;
    },
    isOpaqueDir: (hostPath) => {
      if (!dirs.has(hostPath)) return isOpaqueDir(hostPath);
      let opaque = FIXED_OPAQUE.get(hostPath);
      if (opaque === undefined) {
        opaque = isOpaqueDir(hostPath);
        FIXED_OPAQUE.set(hostPath, opaque);
      }
      return opaque;
    },
  };
}
