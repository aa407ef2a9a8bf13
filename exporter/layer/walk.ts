import { lstatSync, readdirSync } from 'node:fs';
import { join, posix } from 'node:path';
import { isOpaqueDir, isWhiteout, whiteoutTarName } from '../../native/index.js';
import type { TreeEntry } from '../tree-entry.js';

/**
 * walkSnapshot yields every path of one snapshot dir depth-first, parents before children, siblings sorted by
 * the name they take in a layer tar (a whiteout of NAME sorts as `.wh.NAME`).
 *
 * One generator frame walks with an explicit stack: nested `yield*` would cost a promise hop per level
 * for every entry. Directories are listed and stat'ed synchronously, since one thread-pool round
 * trip per file would bound a layer of many small files.
 */
export async function* walkSnapshot(dir: string, options: { signal: AbortSignal }): AsyncGenerator<TreeEntry> {
  const stack = listDir(dir, '').reverse();
  for (let entry = stack.pop(); entry !== undefined; entry = stack.pop()) {
    yield entry;
    if (!entry.stat.isDirectory()) continue;
    options.signal.throwIfAborted();
    for (const child of listDir(entry.source, entry.rel).reverse()) stack.push(child);
  }
}

/** listDir stats a directory's children, sorted by their layer tar names. */
function listDir(abs: string, rel: string): TreeEntry[] {
  // Names in code unit order first, so equal keys keep a stable order.
  const children = readdirSync(abs).sort().map((name) => {
    const source = join(abs, name);
    const stat = lstatSync(source);
    const whiteout = isWhiteout(stat);
    const entry: TreeEntry = { rel: rel === '' ? name : posix.join(rel, name), source, stat, whiteout, opaque: stat.isDirectory() && isOpaqueDir(source) };
    return { key: whiteout ? whiteoutTarName(name) : name, entry };
  });
  children.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return children.map((c) => c.entry);
}
