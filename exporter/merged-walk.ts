import { posix } from 'node:path';
import { listLayered } from '../native/index.js';
import type { TreeEntry } from './tree-entry.js';

/** walkMerged yields the tree overlayfs would show for snapshot dirs stacked bottom→top, sorted, without whiteouts. */
export async function* walkMerged(layerDirs: readonly string[], options: { signal: AbortSignal }): AsyncGenerator<TreeEntry> {
  yield* mergeDir('', [...layerDirs].reverse(), options.signal);
}

/** mergeDir walks one directory merged from `dirs`, ordered top→bottom. */
async function* mergeDir(rel: string, dirs: readonly string[], signal: AbortSignal): AsyncGenerator<TreeEntry> {
  for (const [name, entry] of await listLayered(dirs)) {
    signal.throwIfAborted();
    const childRel = rel === '' ? name : posix.join(rel, name);
    yield { rel: childRel, source: entry.hostPath, stat: entry.stats, whiteout: false, opaque: false };
    if (entry.stats.isDirectory()) yield* mergeDir(childRel, entry.merged, signal);
  }
}
