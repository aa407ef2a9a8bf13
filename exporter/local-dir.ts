import { type Stats, chmodSync, copyFileSync, linkSync, lutimesSync, mkdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createPacer } from '../base/async.js';
import { errnoCode } from '../base/errors.js';
import { isOnlyLinkTo, lstatSyncIfExists } from '../base/fs.js';
import { outputWriteError } from './output-error.js';
import { llistxattr, lsetxattr, mknod } from '../native/index.js';
import { readXattrs } from './layer/index.js';
import { walkMerged } from './merged-walk.js';
import type { SharedPaths } from './shared-paths.js';
import type { TreeEntry } from './tree-entry.js';

/** LocalDirOptions controls writeLocalDir. */
export interface LocalDirOptions {
  /** sourceDateEpoch is every entry's time (seconds since 1970), as BuildKit's local exporter stamps files with the epoch. */
  readonly sourceDateEpoch?: number;
  readonly signal: AbortSignal;
  /** A folder several platforms fill together (platform-split=false): the paths written so far, and this platform's name. */
  readonly shared?: { readonly paths: SharedPaths; readonly platform: string };
}

/**
 * Files up to this size are copied on the event loop's thread, as every other entry is made there: for the small files
 * most outputs hold, a handful of syscalls costs less than a hop to the thread pool and back per call. Bigger files
 * are copied on the thread pool.
 */
const COPY_ON_LOOP_BYTES = 256 * 1024;

/** PACE_MS is how long the entries made in one go may hold the event loop. */
const PACE_MS = 5;

/**
 * writeLocalDir merges the snapshots bottom→top into a plain directory, as overlayfs would show them. Each entry's
 * access and modification times are its modification time (or the epoch), as BuildKit's local exporter sets them.
 * Entries are made with synchronous calls in slices of a few milliseconds, handing the event loop a turn between them.
 */
export async function writeLocalDir(layers: readonly { readonly dir: string }[], dest: string, options: LocalDirOptions): Promise<void> {
  await mkdir(dest, { recursive: true }).catch((err: unknown) => {
    throw outputWriteError(dest, err);
  });
  const links = new Map<string, string>();
  const dirTimes: { path: string; time: Date | number }[] = [];
  const pace = createPacer(options.signal, PACE_MS);
  for await (const entry of walkMerged(layers.map((l) => l.dir), { signal: options.signal })) {
    await pace();
    const target = join(dest, entry.rel);
    options.shared?.paths.claim(entry.rel, options.shared.platform, entry.stat.isDirectory());
    const existing = lstatSyncIfExists(target);
    if (!keepsLink(existing, entry, target)) {
      if (existing !== undefined && !(existing.isDirectory() && entry.stat.isDirectory())) rmSync(target, { recursive: true, force: true });
      if (!(await createCopy(entry, target, links))) continue;
    }
    copyMetadata(entry, target);
    const time = options.sourceDateEpoch ?? entry.stat.mtime;
    if (entry.stat.isDirectory()) dirTimes.push({ path: target, time });
    else lutimesSync(target, time, time);
  }
  // Directory times last: filling a directory changes its mtime.
  for (const { path, time } of dirTimes.reverse()) {
    await pace();
    lutimesSync(path, time, time);
  }
}

/** keepsLink tells whether target is already the symbolic link the entry is, with no extended attributes: only its time is set again. */
function keepsLink(existing: Stats | undefined, entry: TreeEntry, target: string): boolean {
  const { stat, source } = entry;
  if (!stat.isSymbolicLink() || stat.nlink > 1) return false;
  return isOnlyLinkTo(target, readlinkSync(source), existing) && llistxattr(target).length === 0;
}

/** createCopy makes the entry at target; false means nothing more is to be done (a hard link or a socket). */
async function createCopy(entry: TreeEntry, target: string, links: Map<string, string>): Promise<boolean> {
  const { stat, source } = entry;
  if (!stat.isDirectory() && stat.nlink > 1) {
    const key = `${stat.dev}:${stat.ino}`;
    const first = links.get(key);
    if (first !== undefined) {
      linkSync(first, target);
      return false;
    }
    links.set(key, target);
  }
  if (stat.isDirectory()) {
    try {
      mkdirSync(target);
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
    }
  } else if (stat.isFile()) {
    if (stat.size > COPY_ON_LOOP_BYTES) await copyFile(source, target);
    else copyFileSync(source, target);
  } else if (stat.isSymbolicLink()) symlinkSync(readlinkSync(source), target);
  else if (stat.isCharacterDevice() || stat.isBlockDevice() || stat.isFIFO()) mknod(target, stat.mode, stat.rdev);
  else return false; // sockets do not survive an export, as with tar outputs
  return true;
}

/**
 * copyMetadata keeps the entry's mode (setuid, setgid and sticky bits too) and extended attributes. Its owner is not
 * copied: as with BuildKit's local exporter, the files belong to whoever runs the build, never to the image's users.
 */
function copyMetadata(entry: TreeEntry, target: string): void {
  const { stat } = entry;
  if (!stat.isSymbolicLink()) chmodSync(target, stat.mode & 0o7777);
  for (const [name, value] of readXattrs(entry.source)) lsetxattr(target, name, value);
}
