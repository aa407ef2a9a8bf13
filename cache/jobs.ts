import { randomBytes } from 'node:crypto';
import { errnoCode } from '../base/errors.js';
import type { MetadataStore } from './metadata.js';

/** registerJob records a running build until the returned handle is disposed. */
export async function registerJob(meta: MetadataStore): Promise<AsyncDisposable> {
  const id = `${process.pid}-${randomBytes(4).toString('hex')}`;
  await meta.jobs.put(id, { pid: process.pid, startedAt: Date.now() });
  return { [Symbol.asyncDispose]: async () => void (await meta.jobs.remove(id)) };
}

/** isProcessAlive tells whether a process with this pid exists. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === 'EPERM';
  }
}
