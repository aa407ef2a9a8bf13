import { randomBytes } from 'node:crypto';
import { errnoCode } from '../base/errors.js';
import type { MetadataStore } from './metadata.js';

/** registerJob records a running build until the returned handle is disposed. */
export async function registerJob(meta: MetadataStore): Promise<AsyncDisposable> {
  const id = `${process.pid}-${randomBytes(4).toString('hex')}`;
  await meta.jobs.put(id, { pid: process.pid, startedAt: Date.now() });
  return { [Symbol.asyncDispose]: async () => void (await meta.jobs.remove(id)) };
}

/** runningJobs counts builds of live processes, forgetting those of processes that died. */
export async function runningJobs(meta: MetadataStore): Promise<number> {
  let n = 0;
  for (const { key, value } of meta.jobs.getRange()) {
    if (isProcessAlive(value.pid)) n++;
    else await meta.jobs.remove(key);
  }
  return n;
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
