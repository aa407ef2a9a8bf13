import { ExportError } from '../base/errors.js';
import { errnoReason } from '../base/errno-reason.js';

/**
 * outputWriteError names the destination a file or folder output could not be written to and why, so a user's bad
 * `dest=` reads as one; errors without an errno code (a bug, a failed stream) are kept as they are.
 */
export function outputWriteError(dest: string, err: unknown): unknown {
  const reason = errnoReason(err);
  if (reason === undefined) return err;
  return new ExportError(`Cannot write the output to "${dest}": ${reason}`, { cause: err, hint: 'check the dest= of -o/--output' });
}
