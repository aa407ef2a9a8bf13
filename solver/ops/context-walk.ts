import { lstatSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import type { ListNames } from '../../cache/index.js';

/** ContextEntry is one path of a context subtree, with its stat. */
export interface ContextEntry {
  readonly relPath: string;
  readonly hostPath: string;
  readonly stats: Stats;
  /** Symlink target, for symlinks. */
  readonly linkTarget?: string;
}

/** WalkOptions controls walkContextTree. */
export interface WalkOptions {
  readonly isExcluded: (relPath: string) => boolean;
  readonly signal: AbortSignal;
  /** How directories are listed; by default, read each one. */
  readonly listNames?: ListNames;
  /** Called with each kept path, in order: entries are not collected, so their stats die young. */
  readonly onEntry: (entry: ContextEntry) => void;
}

/** Entries stat'ed between two yields to the event loop. */
const CHUNK = 512;

const readNames: ListNames = (hostPath) => readdirSync(hostPath).sort();

/**
 * walkContextTree visits a context subtree in sorted order (parents before children), skipping excluded paths.
 *
 * It stats with synchronous calls in chunks of CHUNK entries, yielding to the event loop between
 * chunks: for a 20,000-file context this is about ten times faster than one promise per stat,
 * which is what an unchanged context's cache key costs.
 */
export async function walkContextTree(root: { relPath: string; hostPath: string; stats: Stats }, options: WalkOptions): Promise<void> {
  const listNames = options.listNames ?? readNames;
  const stack = [root];
  let budget = CHUNK;
  for (let dir = stack.pop(); dir !== undefined; dir = stack.pop()) {
    const { relPath, hostPath, stats } = dir;
    options.onEntry(stats.isSymbolicLink() ? { relPath, hostPath, stats, linkTarget: readlinkSync(hostPath) } : { relPath, hostPath, stats });
    if (!stats.isDirectory()) continue;
    const children = statChildren(dir, listNames, options.isExcluded);
    budget -= children.length;
    if (budget <= 0) {
      budget = CHUNK;
      await nextMacrotask();
      options.signal.throwIfAborted();
    }
    for (const child of children.reverse()) stack.push(child);
  }
}
type Walked = { relPath: string; hostPath: string; stats: Stats };

/** statChildren stats a directory's kept children in name order, listing it afresh when a memoised name is gone. */
function statChildren(dir: Walked, listNames: ListNames, isExcluded: (relPath: string) => boolean): Walked[] {
  // The walk starts from a normalised path, so plain concatenation (much cheaper than path.join) keeps it normalised.
  const prefix = dir.hostPath.endsWith('/') ? dir.hostPath : `${dir.hostPath}/`;
  for (let fresh = false; ; fresh = true) {
    const children: Walked[] = [];
    let gone = false;
    for (const name of listNames(dir.hostPath, dir.stats, fresh)) {
      const relPath = dir.relPath === '' ? name : `${dir.relPath}/${name}`;
      if (isExcluded(relPath)) continue;
      const hostPath = prefix + name;
      const stats = lstatSync(hostPath, { throwIfNoEntry: fresh });
      if (stats === undefined) {
        gone = true;
        break;
      }
      children.push({ relPath, hostPath, stats });
    }
    if (!gone) return children;
  }
}
