import { readlink } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { posix } from 'node:path';
import { digestOf, type Digest } from '../../base/digest.js';
import { createSnapshotView, type FsEntry, type FsView } from '../../cache/index.js';
import { isOverlayXattr, lgetxattr, llistxattr } from '../../native/index.js';
import { cleanSource, hasWildcard } from '../index.js';
import { expandSource, splitPivot } from './copy-match.js';
import { digestFileContent } from './context-checksum.js';
import type { OpDeps } from './deps.js';

interface KnownFile {
  readonly stamp: string;
  readonly digest: string;
}

/**
 * SelectedDigests digests selected paths of snapshots for content keys. A snapshot never changes once committed, so
 * each (snapshot, paths) pair is digested once per build and each file's bytes once per stat.
 */
export class SelectedDigests {
  readonly #deps: Pick<OpDeps, 'snapshotter'>;
  readonly #digests = new Map<string, Promise<Digest>>();
  readonly #files = new Map<string, KnownFile>();

  constructor(deps: Pick<OpDeps, 'snapshotter'>) {
    this.#deps = deps;
  }

  /** snapshot digests `paths` of a snapshot chain (null: the empty filesystem). */
  snapshot(snapshotId: string | null, paths: readonly string[], signal: AbortSignal): Promise<Digest> {
    const memoKey = `${snapshotId ?? ''}\0${paths.join('\0')}`;
    let p = this.#digests.get(memoKey);
    if (p === undefined) {
      p = digestSelectedPaths(createSnapshotView(this.#deps.snapshotter, snapshotId), paths, { signal, files: this.#files }).catch((err: unknown) => {
        // A failed digest (a cancelled build) is not remembered.
        this.#digests.delete(memoKey);
        throw err;
      });
      this.#digests.set(memoKey, p);
    }
    return p;
  }
}

interface WalkState {
  readonly signal: AbortSignal;
  readonly files: Map<string, KnownFile>;
  readonly lines: string[];
}

/**
 * digestSelectedPaths digests the paths selected of a filesystem view, each followed through symlinks as a COPY
 * follows its sources, and everything below them: names, types, modes, owners, extended attributes, link targets
 * and file contents, as the context checksum describes them plus owners and attributes (a stage's files keep them);
 * times are left out, as BuildKit's content hash leaves them out.
 */
export async function digestSelectedPaths(
  view: FsView,
  paths: readonly string[],
  options: { signal: AbortSignal; files?: Map<string, KnownFile> },
): Promise<Digest> {
  const state: WalkState = { signal: options.signal, files: options.files ?? new Map<string, KnownFile>(), lines: paths.map((p) => `source ${p}`) };
  for (const selector of paths) {
    // A --parents source (pivotSelector) is an include pattern below its pivot, where `**` spans folders.
    const { pivot, pattern } = splitPivot(selector);
    const path = cleanSource(pattern);
    if (hasWildcard(path)) {
      const globstarDepth = !selector.includes('/./') ? Infinity : pivot === '' ? 0 : pivot.split('/').length;
      for (const m of await expandSource(path, { view, isExcluded: () => false }, { globstarDepth })) await walk(view, `/${m.relPath}`, m.entry, state);
      continue;
    }
    const entry = await view.lookup(path, { followLast: true });
    if (entry === undefined) state.lines.push(`${path}\0missing`);
    else await walk(view, posix.join('/', path), entry, state);
  }
  return digestOf(state.lines.join('\n'));
}

async function walk(view: FsView, path: string, entry: FsEntry, state: WalkState): Promise<void> {
  state.signal.throwIfAborted();
  state.lines.push(`${path}\0${await describe(entry, state)}`);
  if (!entry.stats.isDirectory()) return;
  const children = [...(await view.list(path, entry))].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [name, child] of children) await walk(view, posix.join(path, name), child, state);
}

async function describe(entry: FsEntry, state: WalkState): Promise<string> {
  const st = entry.stats;
  const owner = `${st.uid}:${st.gid}${xattrsOf(entry.hostPath)}`;
  const mode = (st.mode & 0o7777).toString(8);
  if (st.isDirectory()) return `dir ${mode} ${owner}`;
  if (st.isSymbolicLink()) return `link ${await readlink(entry.hostPath)} ${owner}`;
  if (!st.isFile()) return `special ${st.mode.toString(8)} ${st.rdev} ${owner}`;
  return `file ${mode} ${owner} ${await fileDigest(entry.hostPath, st, state)}`;
}

async function fileDigest(hostPath: string, st: Stats, state: WalkState): Promise<string> {
  const stamp = `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
  const known = state.files.get(hostPath);
  if (known?.stamp === stamp) return known.digest;
  const digest = await digestFileContent(hostPath, st.size, state.signal);
  state.files.set(hostPath, { stamp, digest });
  return digest;
}

/** xattrsOf describes a path's extended attributes (a RUN sees them), leaving out overlayfs's own. */
function xattrsOf(hostPath: string): string {
  const names = llistxattr(hostPath).filter((n) => !isOverlayXattr(n)).sort();
  return names.map((n) => ` xattr ${n}=${lgetxattr(hostPath, n)?.toString('hex') ?? ''}`).join('');
}
