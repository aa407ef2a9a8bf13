import { constants, lstatSync, readlinkSync, type Stats } from 'node:fs';
import { access, lstat, readdir, readFile, stat } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { errnoCode } from './errors.js';

/** pathExists tells whether a path exists; errors other than ENOENT (EACCES, EIO …) are thrown. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
  }
}

/** readTextIfExists reads a UTF-8 file, or returns null when it does not exist. */
export async function readTextIfExists(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return null;
    throw err;
  }
}

/**
 * isSpecialDestination tells whether an output path names something to write into rather than replace: a device such
 * as /dev/null, a pipe or a socket (through symlinks, as /dev/stdout). Writing through a temporary name and renaming it
 * over such a path would replace the device with a plain file.
 */
export async function isSpecialDestination(path: string): Promise<boolean> {
  try {
    const st = await stat(path);
    return !st.isFile() && !st.isDirectory();
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw err;
  }
}

/**
 * lstatSyncIfExists is lstatIfExists for the walks that stat synchronously (a snapshot's many small files, where a
 * thread-pool round trip per file costs more than the call).
 */
export function lstatSyncIfExists(path: string): Stats | undefined {
  try {
    // A missing path is the common answer: no error (with its stack) is made for it.
    return lstatSync(path, { throwIfNoEntry: false });
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/**
 * isOnlyLinkTo tells whether path is a symbolic link to `text` with no other name (`stat`: its lstat, when the caller
 * has it). An output written over an earlier one keeps such a link instead of making it again: making one costs a
 * journal write on file systems such as ext4 (0.2 ms each on a virtual machine's ext4 volume), and a base image
 * holds hundreds.
 */
export function isOnlyLinkTo(path: string, text: string, stat: Stats | undefined = lstatSyncIfExists(path)): boolean {
  return stat !== undefined && stat.isSymbolicLink() && stat.nlink === 1 && readlinkSync(path) === text;
}

/** lstatIfExists lstats a path, or returns undefined when it or a parent is missing (ENOENT, ENOTDIR). */
export async function lstatIfExists(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/** readdirOrEmpty lists a folder, or nothing when it does not exist. */
export async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
}

/** isExecutableOnPath says whether `name` is an executable file in one of the folders of `searchPath` (a PATH value). */
export async function isExecutableOnPath(name: string, searchPath: string): Promise<boolean> {
  for (const dir of searchPath.split(delimiter)) {
    try {
      await access(join(dir, name), constants.X_OK);
      return true;
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT' && errnoCode(err) !== 'EACCES' && errnoCode(err) !== 'ENOTDIR') throw err;
    }
  }
  return false;
}
