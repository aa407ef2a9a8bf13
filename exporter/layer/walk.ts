import { lstatSync, readdirSync } from 'node:fs';
import { join, posix } from 'node:path';
import { classifyUpperEntry, isOpaqueDir, whiteoutTarName } from '../../native/index.js';
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
  const stack = listDir(dir, '', false).reverse();
  for (let entry = stack.pop(); entry !== undefined; entry = stack.pop()) {
    yield entry;
    if (!entry.stat.isDirectory()) continue;
    options.signal.throwIfAborted();
    for (const child of listDir(entry.source, entry.rel, entry.opaque).reverse()) stack.push(child);
  }
}

/**
 * listDir stats a directory's children, sorted by their layer tar names. Whiteouts come in both of their upper-dir
 * forms (a 0/0 device NAME, fuse-overlayfs's `.wh.NAME` file) and, in an opaque directory, are left out: nothing
 * below shows there for them to hide (fuse-overlayfs writes some; the kernel's overlayfs none). The opaque marker file
 * is the directory's `opaque` flag, not an entry.
 */
function listDir(abs: string, rel: string, opaque: boolean): TreeEntry[] {
  const byKey = new Map<string, TreeEntry>();
  // Names in code unit order first, so equal keys keep a stable order.
  for (const name of readdirSync(abs).sort()) {
    const source = join(abs, name);
    const stat = lstatSync(source);
    const kind = classifyUpperEntry(name, stat);
    if (kind.kind === 'opaque-marker' || (kind.kind === 'whiteout' && opaque)) continue;
    const shown = kind.kind === 'whiteout' ? kind.name : name;
    const whiteout = kind.kind === 'whiteout';
    const key = whiteout ? whiteoutTarName(shown) : name;
    // A name deleted in both forms is one whiteout.
    if (byKey.has(key)) continue;
    byKey.set(key, { rel: rel === '' ? shown : posix.join(rel, shown), source, stat, whiteout, opaque: stat.isDirectory() && isOpaqueDir(source) });
  }
  return [...byKey].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, entry]) => entry);
}
