import type { Stats } from 'node:fs';
import { posix } from 'node:path';
import { LRUCache } from 'lru-cache';
import { lstatIfExists } from '../../base/fs.js';

/** LayerStat lstats a path of a layer: undefined when it is missing. */
export type LayerStat = (hostPath: string) => Promise<Stats | undefined>;

/**
 * What lstat found at paths inside layers that never change (committed ones), for every lookup of this process: each RUN
 * looks its mount points and /etc files up through every layer below it, one lstat a layer, so a step on a chain of
 * forty layers would otherwise ask the same forty questions again. `false` is a path found missing. Layer directories
 * are named once and removed whole, so an entry is never wrong; a removed layer's entries are only never asked for again.
 */
const FIXED = new LRUCache<string, Stats | false>({ max: 20_000 });

/**
 * fixedLayerStat is a LayerStat that remembers what it finds inside `fixedRoots` (layer directories that never change)
 * and lstats every other path each time. A path counts as inside them when it is one of them, or when its parent
 * directory was found there.
 */
export function fixedLayerStat(fixedRoots: readonly string[]): LayerStat {
  const roots = new Set(fixedRoots);
  const dirs = new Set<string>();
  return async (hostPath) => {
    if (!roots.has(hostPath) && !dirs.has(posix.dirname(hostPath))) return lstatIfExists(hostPath);
    let found = FIXED.get(hostPath);
    if (found === undefined) {
      found = (await lstatIfExists(hostPath)) ?? false;
      FIXED.set(hostPath, found);
    }
    if (found === false) return undefined;
    if (found.isDirectory()) dirs.add(hostPath);
    return found;
  };
}
