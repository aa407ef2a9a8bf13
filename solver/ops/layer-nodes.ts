/** Creating nodes in a layer's upper directory: files, hard links, symlinks and special files, never through a symlink there. */
import { spawn } from 'node:child_process';
import { linkSync, openSync, unlinkSync } from 'node:fs';
import { symlink, unlink } from 'node:fs/promises';
import { errnoCode, FileOpError } from '../../base/errors.js';

/**
 * openExclusive creates a file with `mode` (less the umask), replacing what is there without ever following a
 * symlink out of the layer.
 */
export function openExclusive(path: string, mode = 0o600): number {
  try {
    return openSync(path, 'wx', mode);
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw err;
    unlinkSync(path);
    return openSync(path, 'wx', mode);
  }
}

/** linkReplacing makes `path` a hard link to `existing`, replacing a file there. */
export function linkReplacing(existing: string, path: string): void {
  try {
    linkSync(existing, path);
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw err;
    unlinkSync(path);
    linkSync(existing, path);
  }
}

/** symlinkReplacing makes a symlink at path, replacing a file or symlink there, as BuildKit's copy replaces what it copies onto. */
export async function symlinkReplacing(target: string, path: string): Promise<void> {
  try {
    await symlink(target, path);
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw err;
    await unlink(path);
    await symlink(target, path);
  }
}

/** runCp runs cp with arguments, failing with its message. */
export function runCp(args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('cp', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new FileOpError(`Cannot copy a special file: cp exited ${code}: ${stderr.trim()}`))));
  });
}
