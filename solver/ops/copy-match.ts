import { posix } from 'node:path';
import { FileOpError } from '../../base/errors.js';
import type { FsEntry, FsView } from '../../cache/index.js';
import { cleanSource, hasWildcard } from '../index.js';
import { globComponentRegExp } from './glob.js';

/** CopySource is where a COPY reads from, with the paths it must skip. */
export interface CopySource {
  readonly view: FsView;
  /** Tells whether an in-tree path (no leading slash) is left out (.dockerignore, --exclude). */
  readonly isExcluded: (relPath: string) => boolean;
  /** The build context: its entries belong to root in the image, whoever owns them on the host. */
  readonly rootOwned?: boolean;
  /** Names the source in errors, as BuildKit names the ref it reads (a snapshot, or the local context's name). */
  readonly ref?: string;
  /** Exception patterns (`!path`) may bring back entries below an excluded folder: the copy walks into it. */
  readonly hasExceptions?: boolean;
}

/** Match is one source path a COPY selected. */
export interface Match {
  readonly relPath: string;
  readonly entry: FsEntry;
}

const byName = ([a]: [string, FsEntry], [b]: [string, FsEntry]): number => (a < b ? -1 : a > b ? 1 : 0);

/** splitPivot separates a --parents source at its `/./` pivot: the part before it is not kept. */
export function splitPivot(src: string): { pivot: string; pattern: string } {
  const i = src.indexOf('/./');
  if (i < 0) return { pivot: '', pattern: src };
  const pivot = cleanSource(src.slice(0, i)).slice(1);
  return { pivot, pattern: `${src.slice(0, i)}/${src.slice(i + 3)}` };
}

/** ExpandOptions limits how far expanding a source follows symlinks, and says where `**` spans folders. */
export interface ExpandOptions {
  /**
   * How many leading path components may pass through a symlink (default: all). COPY --parents copies below its
   * pivot as BuildKit's copy walks a tree: a symlink there is matched as itself and never leads into a folder.
   */
  readonly followDepth?: number;
  /**
   * From which path component on a `**` component stands for any number of folders (default: none). A COPY or ADD
   * source matches each component with Go's filepath.Match, where `**` is `*` (BuildKit's copy resolves wildcards
   * so); only include patterns (COPY --parents below its pivot, a context's include patterns) span folders.
   */
  readonly globstarDepth?: number;
  /**
   * Past the first wildcard component, a symlink to a folder is followed only as the last component, the match
   * itself, never into the folder: BuildKit's copy resolves wildcards by walking the tree from their literal prefix,
   * and the walk does not follow symlinks. Expanding for a cache key enters them: a key covers all the copy reads.
   */
  readonly walkAsCopy?: boolean;
}

/** expandSource finds the paths one COPY source names, expanding wildcards (`*`, `?`, `[...]`, and `**` as options say). */
export async function expandSource(src: string, source: CopySource, options: ExpandOptions = {}): Promise<Match[]> {
  const clean = cleanSource(src);
  const followDepth = options.followDepth ?? Infinity;
  const globstarDepth = options.globstarDepth ?? Infinity;
  const follows = (relPath: string): boolean => relPath.split('/').length <= followDepth;
  if (!hasWildcard(clean)) {
    const rel = clean.slice(1);
    if (rel !== '' && source.isExcluded(rel)) throw notFound(source, clean);
    if (await passesSymlink(rel, followDepth, source.view)) throw notFound(source, clean);
    const entry = await source.view.lookup(clean, { followLast: true });
    // Through a symlink, BuildKit names the path it leads to.
    if (entry === undefined) throw notFound(source, await source.view.resolvePath(clean));
    return [{ relPath: rel, entry }];
  }
  const parts = clean.split('/').filter((p) => p.length > 0);
  const firstWildcard = parts.findIndex(hasWildcard);
  const lastFollowed = Math.min(parts.length, followDepth) - 1;
  let current: Match[] = [{ relPath: '', entry: await rootEntry(source.view) }];
  for (const [depth, part] of parts.entries()) {
    const entered = options.walkAsCopy !== true || depth < firstWildcard || depth === lastFollowed;
    const next: Match[] = [];
    const seen = new Set<string>();
    const push = (m: Match): void => {
      if (seen.has(m.relPath)) return;
      seen.add(m.relPath);
      next.push(m);
    };
    if (part === '**' && depth >= globstarDepth) {
      for (const m of current) for (const d of await descendants(m, source, follows, true)) push(d);
      current = next;
      continue;
    }
    const re = hasWildcard(part) ? globComponentRegExp(part) : undefined;
    for (const m of current) {
      for (const child of await children(m, source, (rel) => entered && follows(rel))) {
        const name = posix.basename(child.relPath);
        if (re ? re.test(name) : name === part) push(child);
      }
    }
    current = next;
  }
  // A wildcard that matches nothing copies nothing, as BuildKit allows for COPY and ADD (AllowEmptyWildcard).
  return current;
}

/** failDangling fails a copy that follows its matches when one is a symlink to nothing, as BuildKit's does. */
export async function failDangling(matches: readonly Match[], source: CopySource): Promise<void> {
  const dangling = matches.find((m) => m.entry.stats.isSymbolicLink());
  if (dangling !== undefined) throw notFound(source, await source.view.resolvePath(`/${dangling.relPath}`));
}

/** unfollowed is a match as it is in the tree: --parents copies a symlink it matches as a symlink. */
export async function unfollowed(m: Match, source: CopySource): Promise<Match> {
  const raw = m.entry.stats.isSymbolicLink() ? m.entry : await source.view.lookup(`/${m.relPath}`, { followLast: false });
  return raw?.stats.isSymbolicLink() === true ? { relPath: m.relPath, entry: raw } : m;
}

/**
 * SourceNotFoundError is a COPY source its input does not hold. BuildKit finds it as it computes the copy's cache key,
 * a checksum of what the copy reads, and words it so.
 */
export class SourceNotFoundError extends FileOpError {}

/** notFound words a missing source as BuildKit does: the copy's cache key is a checksum of what it reads. */
function notFound(source: CopySource, path: string): SourceNotFoundError {
  return new SourceNotFoundError(`failed to calculate checksum of ref ${source.ref ?? 'context'}: "${path}": not found`, {
    hint: 'check the path and that .dockerignore does not exclude it',
  });
}

/**
 * passesSymlink tells whether a folder of a path, past the leading components that may be followed, is a symlink:
 * a walk that does not follow symlinks cannot reach the path through it.
 */
async function passesSymlink(rel: string, followDepth: number, view: FsView): Promise<boolean> {
  const parts = rel === '' ? [] : rel.split('/');
  for (let n = followDepth + 1; n < parts.length; n++) {
    if ((await view.lookup(`/${parts.slice(0, n).join('/')}`, { followLast: false }))?.stats.isSymbolicLink() === true) return true;
  }
  return false;
}

async function children(m: Match, source: CopySource, follows: (relPath: string) => boolean): Promise<Match[]> {
  if (!m.entry.stats.isDirectory()) return [];
  const out: Match[] = [];
  for (const [name, entry] of [...(await source.view.list(`/${m.relPath}`, m.entry))].sort(byName)) {
    const relPath = m.relPath === '' ? name : `${m.relPath}/${name}`;
    if (source.isExcluded(relPath)) continue;
    // A symlink to nothing stays itself: it leads nowhere, and as a match it fails the copy. One that may not be
    // followed stays itself too, so nothing below it is matched.
    const resolved = entry.stats.isSymbolicLink() && follows(relPath) ? await source.view.lookup(`/${relPath}`, { followLast: true }) : entry;
    out.push({ relPath, entry: resolved ?? entry });
  }
  return out;
}

/** descendants lists a directory and everything below it (`**` matches zero or more directories). */
async function descendants(m: Match, source: CopySource, follows: (relPath: string) => boolean, self: boolean): Promise<Match[]> {
  const out: Match[] = self ? [m] : [];
  for (const child of await children(m, source, follows)) {
    out.push(child);
    if (child.entry.stats.isDirectory()) out.push(...(await descendants(child, source, follows, false)));
  }
  return out;
}

async function rootEntry(view: FsView): Promise<FsEntry> {
  const e = await view.lookup('/', { followLast: true });
  if (e === undefined) throw new FileOpError('Cannot read the copy source: its root is missing');
  return e;
}
