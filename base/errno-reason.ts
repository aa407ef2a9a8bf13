import { errnoCode } from './errors.js';

/** REASONS say in words why a path a user named could not be written, by errno code. */
const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'a folder on its path does not exist',
  ENOTDIR: 'a folder on its path is a file',
  EISDIR: 'it is a folder; name a file',
  EEXIST: 'it or a folder on its path is a file',
  ENOTEMPTY: 'it is a folder; name a file',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exceeded',
};

/** errnoReason says in words why a file system call failed (for a user's path), or undefined for other errors. */
export function errnoReason(err: unknown): string | undefined {
  const code = errnoCode(err);
  return code === undefined ? undefined : REASONS[code];
}
