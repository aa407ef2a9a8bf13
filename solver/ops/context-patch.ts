import { lstatSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { digestOf, type Digest } from '../../base/digest.js';
import { describeEntry } from './context-checksum.js';
import type { ContextMemo } from './context-memo.js';

/** ScanLines are a whole-context scan's listing: `source .`, then `path\0description` per entry in walk order, with file sizes. */
export interface ScanLines {
  readonly lines: readonly string[];
  /** The size of the regular file each line describes, 0 for other lines. */
  readonly sizes: Float64Array;
}

/** PatchedScan is a listing brought up to date for some changed paths, with its checksum and what was read for it. */
export interface PatchedScan extends ScanLines {
  readonly checksum: Digest;
  readonly selectedBytes: number;
  readonly readBytes: number;
}

/**
 * patchScan brings the listing of a scan of a whole context (source `.`) up to date for the paths a watch says changed,
 * reading only those: a file, link or directory that is still of its kind gets its line described again. A path
 * that appeared (not listed, present now), went (listed, gone now) or changed kind needs the walk: undefined then. A
 * path neither listed nor present now (a temporary file, or one the ignore patterns leave out, made and removed) is
 * no part of the context either way, nor is one the ignore patterns leave out with nothing below it brought back.
 */
export async function patchScan(
  scan: ScanLines,
  changed: readonly string[],
  options: {
    readonly dir: string;
    readonly memo: ContextMemo;
    readonly signal: AbortSignal;
    /** Tells paths the ignore patterns leave out whatever the folder holds: a change to one is none of the context. */
    readonly isSurelyExcluded?: (relPath: string) => boolean;
  },
): Promise<PatchedScan | undefined> {
  const lines = [...scan.lines];
  const sizes = Float64Array.from(scan.sizes);
  let readBytes = 0;
  for (const rel of new Set(changed)) {
    // A name that is not UTF-8 cannot be looked up by its decoded text.
    if (rel === '' || rel.includes('\uFFFD')) return undefined;
    if (options.isSurelyExcluded?.(rel) === true) continue;
    const at = findLine(lines, rel);
    const hostPath = path.join(options.dir, rel);
    const stats = lstatSync(hostPath, { throwIfNoEntry: false });
    if (at < 0) {
      if (stats === undefined) continue;
      return undefined;
    }
    const before = lines[at]?.slice(rel.length + 1).split(' ', 1)[0];
    const kind = stats === undefined ? undefined : stats.isDirectory() ? 'dir' : stats.isSymbolicLink() ? 'link' : stats.isFile() ? 'file' : undefined;
    if (stats === undefined || kind === undefined || kind !== before) return undefined;
    const entry = kind === 'link' ? { relPath: rel, hostPath, stats, linkTarget: readlinkSync(hostPath) } : { relPath: rel, hostPath, stats };
    const unread = kind === 'file' && options.memo.get(hostPath, stats) === undefined;
    lines[at] = `${rel}\0${await describeEntry(entry, options.memo, options.signal)}`;
    sizes[at] = kind === 'file' ? stats.size : 0;
    if (unread) readBytes += stats.size;
  }
  await options.memo.save();
  return { lines, sizes, checksum: digestOf(lines.join('\n')), selectedBytes: sizes.reduce((n, s) => n + s, 0), readBytes };
}

/**
 * findLine finds a path's line by binary search: a walk lists a folder, then each of its entries in name order with
 * what is below it, which orders paths by their components compared one by one. The first line is `source .`.
 */
function findLine(lines: readonly string[], rel: string): number {
  const want = rel.split('/');
  let lo = 1;
  let hi = lines.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const line = lines[mid] ?? '';
    const order = compareComponents(line.slice(0, line.indexOf('\0')), want);
    if (order === 0) return mid;
    if (order < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

function compareComponents(listed: string, want: readonly string[]): number {
  const parts = listed === '' ? [] : listed.split('/');
  for (let i = 0; i < Math.min(parts.length, want.length); i++) {
    const a = parts[i] ?? '';
    const b = want[i] ?? '';
    if (a !== b) return a < b ? -1 : 1;
  }
  return parts.length - want.length;
}
