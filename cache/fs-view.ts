import { lstat, readdir, readlink } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { posix } from 'node:path';
import { errnoCode } from '../base/errors.js';
import { lgetxattr } from '../native/index.js';
import type { Snapshotter } from './snapshotter.js';

/** FsEntry is one path of a filesystem view and where its bytes live on the host. */
export interface FsEntry {
  readonly hostPath: string;
  readonly stats: Stats;
}

/** FsView reads a rootfs-like tree by absolute in-tree paths, without mounting it. */
export interface FsView {
  /** lookup finds a path, resolving symlinks in parent components inside the tree. */
  lookup(path: string, options: { followLast: boolean }): Promise<FsEntry | undefined>;
  /** resolvePath resolves symlinks in the existing components of a path, returning the in-tree path. */
  resolvePath(path: string): Promise<string>;
  /** list returns the visible children of a directory, by name; `known` is the directory's entry when the caller has it. */
  list(path: string, known?: FsEntry): Promise<ReadonlyMap<string, FsEntry>>;
}

const MAX_SYMLINKS = 40;

/** createLayeredView shows overlayfs upper-dir-form layers (top first) merged, as a container would see them. */
export function createLayeredView(layers: readonly string[]): FsView {
  return new LayeredView(layers);
}

/** createSnapshotView shows a snapshot chain (null: the empty filesystem) merged, as a container would see it. */
export function createSnapshotView(snapshotter: Pick<Snapshotter, 'chain' | 'dir'>, id: string | null): FsView {
  return new LayeredView(snapshotter.chain(id).map((layer) => snapshotter.dir(layer)).reverse());
}

/** createDirectoryView shows a plain directory as a tree rooted at `/` (see directory-view.ts). */
export { createDirectoryView, type DirectoryViewOptions, type ListNames } from './directory-view.js';

function isWhiteout(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

function isOpaque(hostPath: string): boolean {
  return lgetxattr(hostPath, 'trusted.overlay.opaque')?.toString() === 'y';
}

class LayeredView implements FsView {
  readonly #layers: readonly string[];

  constructor(layers: readonly string[]) {
    this.#layers = layers;
  }

  /** Finds the topmost entry for an already-resolved path, honouring whiteouts and opaque dirs. */
  async #entryAt(clean: string): Promise<FsEntry | undefined> {
    const parts = clean.split('/').filter((p) => p.length > 0);
    for (let i = 0; i < this.#layers.length; i++) {
      const layer = this.#layers[i] ?? '';
      const hostPath = posix.join(layer, ...parts);
      const st = await lstatOrUndefined(hostPath);
      if (st !== undefined) return isWhiteout(st) ? undefined : { hostPath, stats: st };
      if (await this.#hiddenBelow(layer, parts)) return undefined;
    }
    return undefined;
  }

  /** Tells whether an opaque ancestor or whiteout in this layer hides the path in lower layers. */
  async #hiddenBelow(layer: string, parts: readonly string[]): Promise<boolean> {
    for (let j = parts.length - 1; j >= 0; j--) {
      const p = posix.join(layer, ...parts.slice(0, j));
      const st = await lstatOrUndefined(p);
      if (st === undefined) continue;
      if (isWhiteout(st) || !st.isDirectory()) return true;
      if (j < parts.length && isOpaque(p)) return true;
      return false;
    }
    return false;
  }

  async lookup(path: string, options: { followLast: boolean }): Promise<FsEntry | undefined> {
    let pending = posix.normalize(`/${path}`).split('/').filter((p) => p.length > 0);
    let resolved: string[] = [];
    let links = 0;
    let entry: FsEntry | undefined = await this.#entryAt('/');
    while (pending.length > 0) {
      const name = pending.shift() ?? '';
      if (name === '..') {
        resolved.pop();
        entry = await this.#entryAt(`/${resolved.join('/')}`);
        continue;
      }
      if (name === '.') continue;
      const candidate = [...resolved, name];
      entry = await this.#entryAt(`/${candidate.join('/')}`);
      if (entry === undefined) return undefined;
      const last = pending.length === 0;
      if (entry.stats.isSymbolicLink() && (!last || options.followLast)) {
        if (++links > MAX_SYMLINKS) return undefined;
        const target = await readlink(entry.hostPath);
        pending = [...target.split('/').filter((p) => p.length > 0), ...pending];
        if (target.startsWith('/')) resolved = [];
        entry = await this.#entryAt(`/${resolved.join('/')}`);
        continue;
      }
      resolved = candidate;
    }
    return entry;
  }

  async resolvePath(path: string): Promise<string> {
    let pending = posix.normalize(`/${path}`).split('/').filter((p) => p.length > 0);
    let resolved: string[] = [];
    let links = 0;
    while (pending.length > 0) {
      const name = pending.shift() ?? '';
      if (name === '.' || name === '') continue;
      if (name === '..') {
        resolved.pop();
        continue;
      }
      const candidate = [...resolved, name];
      const entry = await this.#entryAt(`/${candidate.join('/')}`);
      if (entry === undefined) return `/${[...candidate, ...pending].join('/')}`;
      if (entry.stats.isSymbolicLink() && ++links <= MAX_SYMLINKS) {
        const target = await readlink(entry.hostPath);
        pending = [...target.split('/').filter((p) => p.length > 0), ...pending];
        if (target.startsWith('/')) resolved = [];
        continue;
      }
      resolved = candidate;
    }
    return `/${resolved.join('/')}`;
  }

  async list(path: string): Promise<ReadonlyMap<string, FsEntry>> {
    const dir = await this.lookup(path, { followLast: true });
    const out = new Map<string, FsEntry>();
    if (dir === undefined || !dir.stats.isDirectory()) return out;
    const rel = dir.hostPath.slice(this.#layerOf(dir.hostPath).length) || '/';
    const hidden = new Set<string>();
    for (const layer of this.#layers) {
      const hostDir = posix.join(layer, rel);
      const st = await lstatOrUndefined(hostDir);
      if (st === undefined) {
        if (await this.#hiddenBelow(layer, rel.split('/').filter((p) => p.length > 0).concat(['x']))) break;
        continue;
      }
      if (!st.isDirectory()) break;
      for (const name of await readdir(hostDir)) {
        if (out.has(name) || hidden.has(name)) continue;
        const cst = await lstat(posix.join(hostDir, name));
        if (isWhiteout(cst)) hidden.add(name);
        else out.set(name, { hostPath: posix.join(hostDir, name), stats: cst });
      }
      if (isOpaque(hostDir)) break;
    }
    return out;
  }

  #layerOf(hostPath: string): string {
    for (const layer of this.#layers) if (hostPath === layer || hostPath.startsWith(`${layer}/`)) return layer;
    return '';
  }
}
