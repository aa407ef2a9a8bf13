import { lstatSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { posix } from 'node:path';
import { SymlinkLoopError } from '../base/errors.js';
import { lstatSyncIfExists } from '../base/fs.js';
import type { FsEntry, FsView } from './fs-view.js';

const MAX_SYMLINKS = 40;

/**
 * createDirectoryView shows a plain directory (a build context) as a tree rooted at `/`.
 *
 * A context has no whiteouts or opaque directories, so this view stats paths directly, with
 * synchronous calls: a COPY of a large context lists and stats every path, and one thread-pool
 * round trip per path costs far more than the stat itself.
 */
export function createDirectoryView(dir: string, options: DirectoryViewOptions = {}): FsView {
  return new DirectoryView(dir, options.listNames ?? readNames);
}

/**
 * ListNames returns a directory's entry names in code unit order. It may answer from a memo;
 * `fresh` asks it to read the directory, because a name it gave is gone.
 */
export type ListNames = (hostPath: string, stats: Stats, fresh: boolean) => readonly string[];

/** DirectoryViewOptions lets a view list directories from what a walk of the same build already read. */
export interface DirectoryViewOptions {
  readonly listNames?: ListNames;
}

const readNames: ListNames = (hostPath) => readdirSync(hostPath).sort();

const lstatOrUndefined = lstatSyncIfExists;

class DirectoryView implements FsView {
  readonly #dir: string;
  readonly #listNames: ListNames;

  constructor(dir: string, listNames: ListNames) {
    this.#dir = dir;
    this.#listNames = listNames;
  }

  /** Resolves symlinks inside the tree; returns the in-tree path and, when it exists, its entry. */
  #resolve(path: string, followLast: boolean): { path: string; entry: FsEntry | undefined } {
    let pending = posix.normalize(`/${path}`).split('/').filter((p) => p.length > 0);
    let resolved: string[] = [];
    let links = 0;
    let entry: FsEntry | undefined = this.#entry([]);
    while (pending.length > 0) {
      const name = pending.shift() ?? '';
      if (name === '.') continue;
      if (name === '..') {
        resolved.pop();
        entry = this.#entry(resolved);
        continue;
      }
      const candidate = [...resolved, name];
      entry = this.#entry(candidate);
      if (entry === undefined) return { path: `/${[...candidate, ...pending].join('/')}`, entry: undefined };
      if (entry.stats.isSymbolicLink() && (pending.length > 0 || followLast)) {
        if (++links > MAX_SYMLINKS) throw new SymlinkLoopError(`/${path.replace(/^\/+/, '')}`);
        const target = readlinkSync(entry.hostPath);
        pending = [...target.split('/').filter((p) => p.length > 0), ...pending];
        if (target.startsWith('/')) resolved = [];
        entry = this.#entry(resolved);
        continue;
      }
      resolved = candidate;
    }
    return { path: `/${resolved.join('/')}`, entry };
  }

  #entry(parts: readonly string[]): FsEntry | undefined {
    const hostPath = posix.join(this.#dir, ...parts);
    const stats = lstatOrUndefined(hostPath);
    return stats === undefined ? undefined : { hostPath, stats };
  }

  lookup(path: string, options: { followLast: boolean }): Promise<FsEntry | undefined> {
    return Promise.resolve(this.#resolve(path, options.followLast).entry);
  }

  resolvePath(path: string): Promise<string> {
    return Promise.resolve(this.#resolve(path, true).path);
  }

  list(path: string, known?: FsEntry): Promise<ReadonlyMap<string, FsEntry>> {
    const dir = known?.stats.isDirectory() === true ? known : this.#resolve(path, true).entry;
    if (dir === undefined || !dir.stats.isDirectory()) return Promise.resolve(new Map());
    const prefix = dir.hostPath.endsWith('/') ? dir.hostPath : `${dir.hostPath}/`;
    for (let fresh = false; ; fresh = true) {
      const out = new Map<string, FsEntry>();
      let gone = false;
      for (const name of this.#listNames(dir.hostPath, dir.stats, fresh)) {
        const hostPath = prefix + name;
        const stats = lstatOrUndefined(hostPath);
        if (stats !== undefined) out.set(name, { hostPath, stats });
        else gone = true;
      }
      // A name read just now may be gone already (a race, skipped); one from a memo means the memo is stale.
      if (!gone || fresh || this.#listNames === readNames) return Promise.resolve(out);
    }
  }
}
