import type { Stats } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { errnoCode } from '../base/errors.js';
import { isOpaqueDir, isWhiteout, sortedNames, type TreeEntry } from './tree-entry.js';

/** walkMerged yields the tree overlayfs would show for snapshot dirs stacked bottom→top, sorted, without whiteouts. */
export async function* walkMerged(layerDirs: readonly string[], options: { signal: AbortSignal }): AsyncGenerator<TreeEntry> {
  yield* mergeDir('', [...layerDirs].reverse(), options.signal);
}

/** mergeDir walks one directory present (as a directory) in `sources`, ordered top→bottom. */
async function* mergeDir(rel: string, sources: readonly string[], signal: AbortSignal): AsyncGenerator<TreeEntry> {
  const names = new Set<string>();
  for (const source of sources) for (const name of await sortedNames(source)) names.add(name);
  for (const name of [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    signal.throwIfAborted();
    const found = await findVisible(sources, name);
    if (found === undefined) continue;
    const childRel = rel === '' ? name : posix.join(rel, name);
    yield { rel: childRel, source: found.source, stat: found.stat, whiteout: false, opaque: false };
    if (found.stat.isDirectory()) yield* mergeDir(childRel, found.lowerDirs, signal);
  }
}

interface Visible {
  readonly source: string;
  readonly stat: Stats;
  /** lowerDirs are the directories merged below this one, top→bottom, itself first. */
  readonly lowerDirs: readonly string[];
}

async function findVisible(sources: readonly string[], name: string): Promise<Visible | undefined> {
  let top: { source: string; stat: Stats } | undefined;
  const lowerDirs: string[] = [];
  for (const dir of sources) {
    const path = join(dir, name);
    const stat = await lstatOrUndefined(path);
    if (stat === undefined) continue;
    // A whiteout or a non-directory ends the stack: nothing below it is visible.
    if (isWhiteout(stat)) break;
    if (top === undefined) top = { source: path, stat };
    if (!stat.isDirectory()) break;
    lowerDirs.push(path);
    if (isOpaqueDir(path)) break;
  }
  if (top === undefined) return undefined;
  return { ...top, lowerDirs: top.stat.isDirectory() ? lowerDirs : [] };
}

async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return undefined;
    throw err;
  }
}
