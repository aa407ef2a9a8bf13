import { chmod, chown as fsChown, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { FileOpError } from '../../base/errors.js';
import { createDirectoryView } from '../../cache/index.js';
import type { CopyAction, MkdirAction, MkfileAction } from '../graph/index.js';
import { cleanSource } from '../index.js';
import { extractArchive, isTarArchive } from './archive.js';
import { parseModeSpec } from './chmod.js';
import { resolveChown, type Owner } from './chown.js';
import { expandSource, failDangling, splitPivot, unfollowed, type CopySource, type Match } from './copy-match.js';
import { LayerWriter, type FileTarget } from './layer-writer.js';

export { expandSource, type CopySource, type Match } from './copy-match.js';
export { LayerUsage, type FileTarget } from './layer-writer.js';

/** CopyOptions are what a copy needs beyond its action: exclude matching and cancellation. */
export interface CopyOptions {
  /** Compiles --exclude patterns (.dockerignore syntax) into a path predicate. */
  readonly excludeMatcher: (patterns: readonly string[]) => (relPath: string) => boolean;
  readonly signal: AbortSignal;
}

const ROOT_OWNER: Owner = { uid: 0, gid: 0 };

interface Planned {
  readonly match: Match;
  /** How many leading path components --parents leaves out: those of its pivot (`a/./b` keeps `b`), else none. */
  readonly dropped: number;
}

const components = (rel: string): string[] => (rel === '' ? [] : rel.split('/'));

/** insideAny tells whether a path lies below one of the folders (the root folder is ''). */
function insideAny(relPath: string, folders: ReadonlySet<string>): boolean {
  if (relPath === '' || folders.size === 0) return false;
  if (folders.has('')) return true;
  const parts = components(relPath);
  for (let n = 1; n < parts.length; n++) if (folders.has(parts.slice(0, n).join('/'))) return true;
  return false;
}

/** keptPath is what --parents keeps of a match: the path below its pivot, whatever the pivot's wildcards matched. */
function keptPath(p: Planned): string {
  return components(p.match.relPath).slice(p.dropped).join('/');
}

/**
 * applyCopy carries out one COPY/ADD action into the target layer, as BuildKit's copy does: directories the copy
 * creates (missing parents, a destination ending in `/`, a missing destination of a directory) get an octal --chmod
 * or 0755 and the --chown owner or root; an existing destination directory keeps its owner and mode. Entries copied
 * from the source take its metadata, with --chown and --chmod applied.
 */
export async function applyCopy(action: CopyAction, source: CopySource, target: FileTarget, options: CopyOptions): Promise<void> {
  const chown = action.chown === undefined ? undefined : await resolveChown(action.chown, target.base);
  // Files of the build context belong to root in the image; a stage's files keep their owners.
  const owner = chown ?? (source.rootOwned === true ? ROOT_OWNER : undefined);
  const mode = action.chmod === undefined ? undefined : parseModeSpec(action.chmod);
  const relExcluded = action.excludes.length === 0 ? undefined : options.excludeMatcher(action.excludes);
  const exceptions = action.excludes.some((x) => x.startsWith('!'));
  const destResolved = await target.base.resolvePath(action.dest);
  const writer = new LayerWriter(target, owner, mode);
  const planned: Planned[] = [];
  for (const src of action.sources) {
    const { pivot, pattern } = action.parents ? splitPivot(src) : { pivot: '', pattern: src };
    const dropped = components(pivot).length;
    // --parents copies from the pivot (or the root), so --exclude applies to the matches themselves, from there.
    // Below the pivot its source is an include pattern, where `**` spans folders; elsewhere `**` is `*`.
    const matches = action.parents
      ? await expandSource(pattern, excludeBelow(source, dropped, relExcluded, exceptions), { followDepth: dropped, globstarDepth: dropped, walkAsCopy: true })
      : await expandSource(pattern, source, { walkAsCopy: true });
    // Matches are followed, except below the folder --parents copies from: there a symlink is copied as one.
    if (!action.parents) await failDangling(matches, source);
    // A match inside a folder matched too comes with that folder's tree: BuildKit's copy walks the tree once.
    const folders = new Set(action.parents ? matches.filter((m) => m.entry.stats.isDirectory()).map((m) => m.relPath) : []);
    for (const match of matches) {
      if (insideAny(match.relPath, folders)) continue;
      planned.push({ match: action.parents && components(match.relPath).length > dropped ? await unfollowed(match, source) : match, dropped });
    }
    // BuildKit copies the pivot's folder with the pattern as a filter: the destination is made even when the
    // pattern matches nothing, unless a wildcard in the pivot itself matched nothing.
    if (action.parents && matches.length === 0 && (pivot === '' || (await expandSource(pivot, source, { walkAsCopy: true })).length > 0)) {
      await writer.ensureExistingDir(destResolved);
    }
  }
  const destDirHint = action.dest.endsWith('/') || action.dest === '.' || action.dest === '';
  // Each match is copied on its own, onto what the ones before it left: several files to a destination without a
  // trailing slash leave the last one there, as BuildKit's copy does.
  for (const p of planned) {
    const m = p.match;
    const scoped = excludeBelow(source, action.parents ? p.dropped : components(m.relPath).length, relExcluded, exceptions);
    if (action.extractArchives && m.entry.stats.isFile() && (await isTarArchive(m.entry.hostPath, options.signal))) {
      await extractInto(m, destResolved, target, chown, options.signal);
      continue;
    }
    if (destDirHint) await writer.ensureExistingDir(destResolved);
    const dest = await target.base.lookup(destResolved, { followLast: true });
    const kept = action.parents ? keptPath(p) : undefined;
    if (m.entry.stats.isDirectory() && (kept === undefined || kept === '')) {
      if (dest !== undefined && !dest.stats.isDirectory()) throw new FileOpError(`Cannot copy "${m.relPath || '/'}" to "${action.dest}": not a directory`);
      // A directory's contents go into the destination, which is not itself something copied.
      await writer.copyChildren(m, destResolved, scoped);
      writer.keepTimes(destResolved, m.entry.stats);
    } else if (kept !== undefined) {
      await copyParentDirs(writer, source, p, destResolved);
      await writer.copyTree(m, posix.join(destResolved, kept), scoped);
    }
    else await writer.copyTree(m, dest?.stats.isDirectory() === true ? posix.join(destResolved, posix.basename(m.relPath)) : destResolved, scoped);
  }
  await writer.finish();
}

/**
 * excludeBelow applies --exclude patterns to what lies below `base`, matched relative to it, as BuildKit's copy
 * matches them against the path below the source it copies: never to a matched source itself, so a wildcard source
 * is expanded regardless of them (`COPY --exclude=b.* *.txt` copies b.txt; `ADD --exclude=* dir* /6` makes an
 * empty /6), while a directory's contents and, with --parents, everything below the pivot are filtered.
 */
export function excludeBelow(source: CopySource, depth: number, relExcluded: ((rel: string) => boolean) | undefined, exceptions = false): CopySource {
  if (relExcluded === undefined) return source;
  const hasExceptions = source.hasExceptions === true || exceptions;
  const below = (rel: string): boolean => {
    const parts = components(rel);
    return parts.length > depth && relExcluded(parts.slice(depth).join('/'));
  };
  return { ...source, isExcluded: (rel) => source.isExcluded(rel) || below(rel), hasExceptions };
}

/**
 * copyParentDirs makes the directories --parents keeps above a match (between the destination and it) from the
 * source directories they are, --chown and --chmod applied, as BuildKit's copy makes them; existing ones stay.
 */
async function copyParentDirs(writer: LayerWriter, source: CopySource, p: Planned, dest: string): Promise<void> {
  const parts = components(p.match.relPath);
  for (let i = p.dropped + 1; i < parts.length; i++) {
    const rel = parts.slice(0, i).join('/');
    const entry = await source.view.lookup(`/${rel}`, { followLast: true });
    if (entry === undefined) throw new FileOpError(`Cannot copy "${rel}": not found`);
    await writer.ensureCopiedDir(entry, posix.join(dest, ...parts.slice(p.dropped, i)));
  }
}

/**
 * extractInto unpacks a tar archive into `dest` (a directory, made 0755 when missing). Entries keep the archive's
 * modes and owners, or take the --chown owner; --chmod does not apply to them (BuildKit's unpack ignores it).
 */
async function extractInto(m: Match, dest: string, target: FileTarget, owner: Owner | undefined, signal: AbortSignal): Promise<void> {
  const tmp = await mkdtemp(join(tmpdir(), 'tbuild-add-'));
  try {
    const listed = await extractArchive(m.entry.hostPath, tmp, signal);
    const view = createDirectoryView(tmp);
    const root = await view.lookup('/', { followLast: true });
    if (root === undefined) throw new FileOpError(`Cannot extract archive "${m.relPath}"`);
    const writer = new LayerWriter(target, owner, undefined);
    await writer.ensureExistingDir(dest);
    await copyExtracted(writer, { view, isExcluded: () => false }, { relPath: '', entry: root }, dest, { listed, target });
    await writer.finish();
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * copyExtracted copies what an extracted archive directory holds into `to`. A directory the archive lists replaces
 * what is there (a symlink too); one it only implies is reached through the image's paths, symlinks included, as an
 * untar into the image resolves them (an archive of var/run/x lands in /run/x where /var/run links to /run).
 */
async function copyExtracted(writer: LayerWriter, source: CopySource, from: Match, to: string, o: { listed: ReadonlySet<string>; target: FileTarget }): Promise<void> {
  for (const [name, entry] of await source.view.list(`/${from.relPath}`, from.entry)) {
    const relPath = from.relPath === '' ? name : `${from.relPath}/${name}`;
    let into = posix.join(to, name);
    if (!entry.stats.isDirectory()) {
      await writer.queueTree({ relPath, entry }, into, source);
      continue;
    }
    if (o.listed.has(relPath)) await writer.copyDirEntry(entry, into);
    else {
      into = await o.target.base.resolvePath(into);
      await writer.ensureImpliedDir(into);
    }
    await copyExtracted(writer, source, { relPath, entry }, into, o);
  }
}

/** applyMkdir creates a directory (and parents) in the target layer. */
export async function applyMkdir(action: MkdirAction, target: FileTarget): Promise<void> {
  const owner = action.chown === undefined ? ROOT_OWNER : await resolveChown(action.chown, target.base);
  const path = await target.base.resolvePath(action.path);
  const existing = await target.base.lookup(path, { followLast: true });
  if (existing?.stats.isDirectory()) return;
  const dated = action.timestamp === undefined ? undefined : { time: action.timestamp, dirs: await missingDirs(path, target) };
  // Missing parents take the owner too: WORKDIR after USER makes every directory it creates the user's.
  const writer = new LayerWriter(target, owner, undefined);
  await writer.ensureDir(path, action.mode, owner);
  await writer.finish();
  // With a time, as BuildKit's mkdir, every directory it created is dated at it (after their children were made).
  if (dated !== undefined) for (const dir of dated.dirs) await utimes(posix.join(target.upperdir, dir), dated.time, dated.time);
}

/** missingDirs lists path and those of its parents that the base lacks, deepest first. */
async function missingDirs(path: string, target: FileTarget): Promise<string[]> {
  const out: string[] = [];
  for (let p = path; p !== '/' && (await target.base.lookup(p, { followLast: true })) === undefined; p = posix.dirname(p)) out.push(p);
  return out;
}

/** applyMkfile writes a file with given content into the target layer. */
export async function applyMkfile(action: MkfileAction, target: FileTarget): Promise<void> {
  const owner = action.chown === undefined ? ROOT_OWNER : await resolveChown(action.chown, target.base);
  const path = await target.base.resolvePath(action.path);
  const writer = new LayerWriter(target, owner, undefined);
  await writer.ensureParents(path);
  const host = posix.join(target.upperdir, path);
  await writeFile(host, action.data, { mode: action.mode });
  await chmod(host, action.mode);
  await fsChown(host, owner.uid, owner.gid);
  target.usage?.record(host, Buffer.byteLength(action.data));
  await writer.finish();
}
