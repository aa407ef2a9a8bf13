import type { Stats } from 'node:fs';
import { outputWriteError } from './output-error.js';
import { chmod, copyFile, link, lstat, lutimes, mkdir, readlink, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode } from '../base/errors.js';
import { lsetxattr, mknod } from '../native/index.js';
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
 * writeLocalDir merges the snapshots bottom→top into a plain directory, as overlayfs would show them. Each entry's
 * access and modification times are its modification time (or the epoch), as BuildKit's local exporter sets them.
 */
export async function writeLocalDir(layers: readonly { readonly dir: string }[], dest: string, options: LocalDirOptions): Promise<void> {
  await mkdir(dest, { recursive: true }).catch((err: unknown) => {
    throw outputWriteError(dest, err);
  });
  const links = new Map<string, string>();
  const dirTimes: { path: string; time: Date | number }[] = [];
  for await (const entry of walkMerged(layers.map((l) => l.dir), { signal: options.signal })) {
    const target = join(dest, entry.rel);
    options.shared?.paths.claim(entry.rel, options.shared.platform, entry.stat.isDirectory());
    const existing = await lstatOrUndefined(target);
    if (existing !== undefined && !(existing.isDirectory() && entry.stat.isDirectory())) await rm(target, { recursive: true, force: true });
    if (!(await createCopy(entry, target, links))) continue;
    await copyMetadata(entry, target);
    const time = options.sourceDateEpoch ?? entry.stat.mtime;
    if (entry.stat.isDirectory()) dirTimes.push({ path: target, time });
    else await lutimes(target, time, time);
  }
  // Directory times last: filling a directory changes its mtime.
  for (const { path, time } of dirTimes.reverse()) await lutimes(path, time, time);
}

/** createCopy makes the entry at target; false means nothing more is to be done (a hard link or a socket). */
async function createCopy(entry: TreeEntry, target: string, links: Map<string, string>): Promise<boolean> {
  const { stat, source } = entry;
  if (!stat.isDirectory() && stat.nlink > 1) {
    const key = `${stat.dev}:${stat.ino}`;
    const first = links.get(key);
    if (first !== undefined) {
      await link(first, target);
      return false;
    }
    links.set(key, target);
  }
  if (stat.isDirectory()) {
    await mkdir(target).catch((err: unknown) => {
      if (errnoCode(err) !== 'EEXIST') throw err;
    });
  } else if (stat.isFile()) await copyFile(source, target);
  else if (stat.isSymbolicLink()) await symlink(await readlink(source), target);
  else if (stat.isCharacterDevice() || stat.isBlockDevice() || stat.isFIFO()) mknod(target, stat.mode, stat.rdev);
  else return false; // sockets do not survive an export, as with tar outputs
  return true;
}

/**
 * copyMetadata keeps the entry's mode (setuid, setgid and sticky bits too) and extended attributes. Its owner is not
 * copied: as with BuildKit's local exporter, the files belong to whoever runs the build, never to the image's users.
 */
async function copyMetadata(entry: TreeEntry, target: string): Promise<void> {
  const { stat } = entry;
  if (!stat.isSymbolicLink()) await chmod(target, stat.mode & 0o7777);
  for (const [name, value] of readXattrs(entry.source)) lsetxattr(target, name, value);
}

async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}
