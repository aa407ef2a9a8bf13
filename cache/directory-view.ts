import { lstatSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { posix } from 'node:path';
import { errnoCode } from '../base/errors.js';
import type { FsEntry, FsView } from './fs-view.js';

const MAX_SYMLINKS = 40;

/**
 * createDirectoryView shows a plain directory (a build context) as a tree rooted at `/`.
 *
 * A context has no whiteouts or opaque directories, so this view stats paths directly, with
 * synchronous calls: a COPY of a large context lists and stats every path, and one thread-pool
 * round trip per path costs far more than the stat itself.
 */
export function createDirectoryView(dir: string): FsView {
  return new DirectoryView(dir);
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

class DirectoryView implements FsView {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
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
      if (entry.stats.isSymbolicLink() && (pending.length > 0 || followLast) && ++links <= MAX_SYMLINKS) {
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

  list(path: string): Promise<ReadonlyMap<string, FsEntry>> {
    const out = new Map<string, FsEntry>();
    const dir = this.#resolve(path, true).entry;
    if (dir === undefined || !dir.stats.isDirectory()) return Promise.resolve(out);
    for (const name of readdirSync(dir.hostPath).sort()) {
      const hostPath = posix.join(dir.hostPath, name);
      const stats = lstatOrUndefined(hostPath);
      if (stats !== undefined) out.set(name, { hostPath, stats });
    }
    return Promise.resolve(out);
  }
}
