import { readdir, readFile } from 'node:fs/promises';

/** childPids lists the processes whose parent is this test process (what a test must not leave running). */
export async function childPids(): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^[0-9]+$/.test(name)) continue;
    const status = await readFile(`/proc/${name}/status`, 'utf8').catch(() => '');
    if (new RegExp(`^PPid:\\s+${process.pid}$`, 'm').test(status)) pids.push(Number(name));
  }
  return pids;
}
