import { lstat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { WHITEOUT_PREFIX } from '../../cache/layer/index.js';
import { isOpaqueDir, isWhiteout, sortedNames, type TreeEntry } from '../tree-entry.js';

/**
 * walkSnapshot yields every path of one snapshot dir depth-first, parents before children, siblings sorted by
 * the name they take in a layer tar (a whiteout of NAME sorts as `.wh.NAME`).
 */
export async function* walkSnapshot(dir: string, options: { signal: AbortSignal }): AsyncGenerator<TreeEntry> {
  yield* walkDir(dir, '', options.signal);
}

async function* walkDir(abs: string, rel: string, signal: AbortSignal): AsyncGenerator<TreeEntry> {
  const children: { key: string; entry: TreeEntry }[] = [];
  for (const name of await sortedNames(abs)) {
    signal.throwIfAborted();
    const source = join(abs, name);
    const stat = await lstat(source);
    const whiteout = isWhiteout(stat);
    const entry = { rel: rel === '' ? name : posix.join(rel, name), source, stat, whiteout, opaque: stat.isDirectory() && isOpaqueDir(source) };
    children.push({ key: whiteout ? `${WHITEOUT_PREFIX}${name}` : name, entry });
  }
  children.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const { entry } of children) {
    yield entry;
    if (entry.stat.isDirectory()) yield* walkDir(entry.source, entry.rel, signal);
  }
}
