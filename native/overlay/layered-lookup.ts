import type { Stats } from 'node:fs';
import { readdir, readlink } from 'node:fs/promises';
import { posix } from 'node:path';
import { lstatIfExists } from '../../base/fs.js';
import { fixedLayerReads, PLAIN_LAYER_READS, type LayerReads } from './fixed-layer-stats.js';
import { classifyUpperEntry, isOpaqueDir, isWhiteout, WHITEOUT_PREFIX } from './upper-dir.js';

/** LayeredEntry is one path of layers merged as overlayfs merges them: its topmost entry. */
export interface LayeredEntry {
  readonly hostPath: string;
  readonly stats: Stats;
  /**
   * For a directory, the layer directories overlayfs merges at this path, top first (hostPath first): each down to
   * the first opaque one, stopping above a whiteout or non-directory. Empty for anything else.
   */
  readonly merged: readonly string[];
}

/** LayerLookup is where a path of a layered rootfs comes from, if anywhere. */
export type LayerLookup =
  | ({ readonly kind: 'found' } & LayeredEntry)
  | { readonly kind: 'missing' }
  /** A parent component is not a directory (a symlink, say): the path cannot be found without following it. */
  | { readonly kind: 'blocked'; readonly component: string; readonly hostPath: string; readonly stats: Stats };

const MISSING: LayerLookup = { kind: 'missing' };

/**
 * lookupLayered finds a path (relative to the root; `..` is taken lexically) in layer directories in overlayfs
 * upper-dir form, top layer first, as a mount of them shows it: a whiteout hides the path below, an opaque directory
 * hides what lies below it in lower layers, a directory hides a lower non-directory. Symlinks are never followed.
 * The root is every layer merged; like overlayfs, the opaque mark of a layer's root is not honoured.
 */
export function lookupLayered(layers: readonly string[], path: string): Promise<LayerLookup> {
  return new LayeredTree(layers).lookup(path);
}

/**
 * resolveInLayers follows the symlinks of a path inside the layered root, component by component, as a process in that
 * root would see them (an absolute target starts again at the root, `..` stops at it), and returns the path it leads to:
 * where a mount on `path` lands. Missing components are kept as they are; a loop or a non-directory on the way returns
 * undefined, for the sandbox to report when it mounts.
 */
export function resolveInLayers(layers: readonly string[], path: string): Promise<string | undefined> {
  return new LayeredTree(layers).resolve(path);
}

const MAX_SYMLINKS = 40;

/**
 * LayeredTree answers lookupLayered and resolveInLayers for one stack of layers, remembering each path it found (or
 * found missing): the paths a RUN step looks up share their parents, and each parent costs one lstat per layer. It is
 * for layers that do not change while it is used, or whose changes the changer tells it (forget).
 */
export class LayeredTree {
  readonly #layers: readonly string[];
  readonly #reads: LayerReads;
  /** The entry at each in-tree path looked up so far ('' is the root), by its components joined with '/'. */
  readonly #entries = new Map<string, Promise<LayeredEntry | undefined>>();

  /** `fixedFrom`: the layers from this index down never change (committed ones), so what lstat finds there is kept. */
  constructor(layers: readonly string[], options: { readonly fixedFrom?: number } = {}) {
    this.#layers = layers;
    this.#reads = options.fixedFrom === undefined ? PLAIN_LAYER_READS : fixedLayerReads(layers.slice(options.fixedFrom));
  }

  /** lookup is lookupLayered over this tree's layers. */
  async lookup(path: string): Promise<LayerLookup> {
    const parts = posix.normalize(`/${path}`).split('/').filter((p) => p !== '');
    let entry = await this.#entry(parts, 0);
    if (entry === undefined) return MISSING;
    for (let i = 0; i < parts.length; i++) {
      if (!entry.stats.isDirectory()) {
        return { kind: 'blocked', component: `/${parts.slice(0, i).join('/')}`, hostPath: entry.hostPath, stats: entry.stats };
      }
      entry = await this.#entry(parts, i + 1);
      if (entry === undefined) return MISSING;
    }
    return { kind: 'found', ...entry };
  }

  /** resolve is resolveInLayers over this tree's layers. */
  async resolve(path: string): Promise<string | undefined> {
    let pending = path.split('/').filter((p) => p !== '' && p !== '.');
    let resolved: string[] = [];
    let links = 0;
    while (pending.length > 0) {
      const name = pending.shift() ?? '';
      if (name === '..') {
        resolved.pop();
        continue;
      }
      const found = await this.lookup([...resolved, name].join('/'));
      if (found.kind === 'blocked') return undefined;
      if (found.kind === 'found' && found.stats.isSymbolicLink()) {
        if (++links > MAX_SYMLINKS) return undefined;
        const target = await readlink(found.hostPath);
        pending = [...target.split('/').filter((p) => p !== '' && p !== '.'), ...pending];
        if (target.startsWith('/')) resolved = [];
        continue;
      }
      if (found.kind === 'found' && !found.stats.isDirectory() && pending.length > 0) return undefined;
      resolved.push(name);
    }
    return `/${resolved.join('/')}`;
  }

  /** forget drops what the tree knows of a path and everything below it, after the caller changed it in a layer. */
  forget(path: string): void {
    const key = posix.normalize(`/${path}`).split('/').filter((p) => p !== '').join('/');
    for (const known of [...this.#entries.keys()]) if (known === key || known.startsWith(`${key}/`)) this.#entries.delete(known);
  }

  /** The entry at the first `depth` components of `parts`, whose parent the caller found to be a directory. */
  #entry(parts: readonly string[], depth: number): Promise<LayeredEntry | undefined> {
    const key = parts.slice(0, depth).join('/');
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      entry =
        depth === 0
          ? rootEntry(this.#layers, this.#reads)
          : this.#entry(parts, depth - 1).then((parent) => (parent === undefined ? undefined : lookupChild(parent.merged, parts[depth - 1] ?? '', this.#reads)));
      this.#entries.set(key, entry);
    }
    return entry;
  }
}

/** rootEntry is the merged root of layers (top first), or undefined when none exists. */
export async function rootEntry(layers: readonly string[], reads: LayerReads = PLAIN_LAYER_READS): Promise<LayeredEntry | undefined> {
  const merged: string[] = [];
  let top: Stats | undefined;
  for (const layer of layers) {
    const stats = await reads.stat(layer);
    if (stats === undefined || !stats.isDirectory()) continue;
    top ??= stats;
    merged.push(layer);
  }
  return top === undefined ? undefined : { hostPath: merged[0] ?? '', stats: top, merged };
}

/** lookupChild finds one name in a merged directory (its `merged` layer directories, top first). */
export async function lookupChild(dirs: readonly string[], name: string, reads: LayerReads = PLAIN_LAYER_READS): Promise<LayeredEntry | undefined> {
  let top: { hostPath: string; stats: Stats } | undefined;
  const merged: string[] = [];
  for (let i = 0; i < dirs.length; i++) {
    const dir = dirs[i] ?? '';
    const hostPath = posix.join(dir, name);
    const stats = await reads.stat(hostPath);
    if (stats === undefined) {
      // fuse-overlayfs's other form of a whiteout (where it may not make a device): a file `.wh.NAME`, asked through
      // `reads` so that committed layers answer from what is kept.
      if ((await reads.stat(posix.join(dir, `${WHITEOUT_PREFIX}${name}`)))?.isFile() === true) break;
      continue;
    }
    // A whiteout, or a non-directory below a directory, ends the stack: nothing lower shows.
    if (isWhiteout(stats) || (top !== undefined && !stats.isDirectory())) break;
    // fuse-overlayfs's marker files (`.wh.NAME`, `.wh..wh..opq`) are no entry of the merged tree.
    if (classifyUpperEntry(name, stats).kind !== 'entry') continue;
    top ??= { hostPath, stats };
    if (!stats.isDirectory()) break;
    merged.push(hostPath);
    if (i < dirs.length - 1 && reads.isOpaqueDir(hostPath)) break;
  }
  return top === undefined ? undefined : { ...top, merged };
}

interface Listed {
  hostPath: string;
  stats: Stats;
  merged: string[];
  /** Whether lower layers may still add to `merged`. */
  open: boolean;
}

/**
 * listLayered lists what a merged directory (its `merged` layer directories, top first) shows, by name in code unit
 * order: each name's topmost entry, leaving out whiteouts and whatever they or an opaque directory hide. One listing
 * per layer and one lstat per name a layer holds, as a lookup of each name would cost one per layer.
 */
export async function listLayered(dirs: readonly string[]): Promise<ReadonlyMap<string, LayeredEntry>> {
  const found = new Map<string, Listed>();
  const hidden = new Set<string>();
  for (const dir of dirs) {
    for (const name of await readdir(dir)) {
      const seen = found.get(name);
      if (seen === undefined ? hidden.has(name) : !seen.open) continue;
      const hostPath = posix.join(dir, name);
      const stats = await lstatIfExists(hostPath);
      // Gone since the listing: as if it had not been listed.
      if (stats === undefined) continue;
      const kind = classifyUpperEntry(name, stats);
      // The opaque marker file shows nowhere: isOpaqueDir reads it for its directory.
      if (kind.kind === 'opaque-marker') continue;
      if (kind.kind === 'whiteout') {
        // It hides the name below this layer: nothing lower merges into a directory shown above.
        const above = found.get(kind.name);
        if (above === undefined) hidden.add(kind.name);
        else above.open = false;
        continue;
      }
      if (seen === undefined) {
        found.set(name, { hostPath, stats, merged: stats.isDirectory() ? [hostPath] : [], open: stats.isDirectory() });
        continue;
      }
      // The name is a directory above: this layer's entry merges into it unless the one above is opaque.
      const above = seen.merged[seen.merged.length - 1] ?? '';
      if (!stats.isDirectory() || isOpaqueDir(above)) seen.open = false;
      else seen.merged.push(hostPath);
    }
  }
  const sorted = [...found].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return new Map(sorted.map(([name, { hostPath, stats, merged }]) => [name, { hostPath, stats, merged }]));
}
