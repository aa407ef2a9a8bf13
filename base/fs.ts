import type { Stats } from 'node:fs';
import { access, lstat, readFile } from 'node:fs/promises';
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
