import { lstatSync } from 'node:fs';
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
  signal.throwIfAborted();
  // Stat synchronously: one thread-pool round trip per file would bound a layer of many small files.
  const children = (await sortedNames(abs)).map((name) => {
    const source = join(abs, name);
    const stat = lstatSync(source);
    const whiteout = isWhiteout(stat);
    const entry: TreeEntry = { rel: rel === '' ? name : posix.join(rel, name), source, stat, whiteout, opaque: stat.isDirectory() && isOpaqueDir(source) };
    return { key: whiteout ? `${WHITEOUT_PREFIX}${name}` : name, entry };
  });
  children.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const { entry } of children) {
    yield entry;
    if (entry.stat.isDirectory()) yield* walkDir(entry.source, entry.rel, signal);
  }
}
