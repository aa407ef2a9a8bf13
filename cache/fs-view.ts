import { readlink } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { posix } from 'node:path';
import { SymlinkLoopError } from '../base/errors.js';
import { fixedLayerReads, listLayered, lookupChild, lookupLayered, PLAIN_LAYER_READS, rootEntry, type LayeredEntry, type LayerReads } from '../native/index.js';
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

/**
 * createLayeredView shows overlayfs upper-dir-form layers (top first) merged, as a container would see them. `fixedFrom`:
 * the layers from this index down never change (committed ones), so what is found there is kept for every lookup.
 */
export function createLayeredView(layers: readonly string[], options: { readonly fixedFrom?: number } = {}): FsView {
  return new LayeredView(layers, options.fixedFrom === undefined ? PLAIN_LAYER_READS : fixedLayerReads(layers.slice(options.fixedFrom)));
}

/** createSnapshotView shows a snapshot chain (null: the empty filesystem) merged, as a container would see it. */
export function createSnapshotView(snapshotter: Pick<Snapshotter, 'chain' | 'dir'>, id: string | null): FsView {
  const layers = snapshotter.chain(id).map((layer) => snapshotter.dir(layer)).reverse();
  return new LayeredView(layers, fixedLayerReads(layers));
}

/** createDirectoryView shows a plain directory as a tree rooted at `/` (see directory-view.ts). */
export { createDirectoryView, type DirectoryViewOptions, type ListNames } from './directory-view.js';

/** isLayeredEntry tells an entry a layered view made, which knows the layer directories merged at its path. */
function isLayeredEntry(entry: FsEntry): entry is LayeredEntry {
  return 'merged' in entry;
}

class LayeredView implements FsView {
  readonly #layers: readonly string[];
  readonly #reads: LayerReads;

  constructor(layers: readonly string[], reads: LayerReads) {
    this.#layers = layers;
    this.#reads = reads;
  }

  /** The merged entry at an already-resolved path (no symlinks among its components). */
  async #entryAt(parts: readonly string[]): Promise<LayeredEntry | undefined> {
    const found = await lookupLayered(this.#layers, parts.join('/'));
    return found.kind === 'found' ? found : undefined;
  }

  /** Resolves symlinks inside the tree, one component at a time; returns the in-tree path and its entry, if any. */
  async #resolve(path: string, followLast: boolean): Promise<{ path: string; entry: LayeredEntry | undefined }> {
    let pending = posix.normalize(`/${path}`).split('/').filter((p) => p.length > 0);
    let resolved: string[] = [];
    let links = 0;
    let entry = await rootEntry(this.#layers, this.#reads);
    while (pending.length > 0) {
      const name = pending.shift() ?? '';
      if (name === '.') continue;
      if (name === '..') {
        resolved.pop();
        entry = await this.#entryAt(resolved);
        continue;
      }
      const candidate = [...resolved, name];
      const child = entry?.stats.isDirectory() === true ? await lookupChild(entry.merged, name, this.#reads) : undefined;
      if (child === undefined) return { path: `/${[...candidate, ...pending].join('/')}`, entry: undefined };
      if (child.stats.isSymbolicLink() && (pending.length > 0 || followLast)) {
        if (++links > MAX_SYMLINKS) throw new SymlinkLoopError(`/${path.replace(/^\/+/, '')}`);
        const target = await readlink(child.hostPath);
        pending = [...target.split('/').filter((p) => p.length > 0), ...pending];
        if (target.startsWith('/')) resolved = [];
        entry = await this.#entryAt(resolved);
        continue;
      }
      resolved = candidate;
      entry = child;
    }
    return { path: `/${resolved.join('/')}`, entry };
  }

  async lookup(path: string, options: { followLast: boolean }): Promise<FsEntry | undefined> {
    return (await this.#resolve(path, options.followLast)).entry;
  }

  async resolvePath(path: string): Promise<string> {
    return (await this.#resolve(path, true)).path;
  }

  async list(path: string, known?: FsEntry): Promise<ReadonlyMap<string, FsEntry>> {
    // A directory entry of this view names its merged layer directories; anything else is looked up, links followed.
    const dir = known !== undefined && known.stats.isDirectory() && isLayeredEntry(known) ? known : (await this.#resolve(path, true)).entry;
    if (dir === undefined || !dir.stats.isDirectory()) return new Map();
    return listLayered(dir.merged);
  }
}
