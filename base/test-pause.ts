import { access, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { errnoCode } from './errors.js';

/** TEST_PAUSE_VARIABLE names a point and a folder, `point:folder`: the process stops there once (see testPause). */
export const TEST_PAUSE_VARIABLE = 'TBUILD_TEST_PAUSE';

const POLL_MS = 20;
const spec = process.env[TEST_PAUSE_VARIABLE];
let paused = false;

/**
 * testPause stops the process the first time it reaches `point` when TBUILD_TEST_PAUSE names it: it writes
 * `folder/reached` and waits until `folder/go` exists. Tests of races between processes (a build and a prune on one
 * store) use it to hold one process at a chosen step; unset, it does nothing.
 */
export async function testPause(point: string): Promise<void> {
  if (spec === undefined || paused || !spec.startsWith(`${point}:`)) return;
  paused = true;
  const folder = spec.slice(point.length + 1);
  await writeFile(join(folder, 'reached'), `${process.pid}\n`);
  for (;;) {
    try {
      await access(join(folder, 'go'));
      return;
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
    }
    await delay(POLL_MS);
  }
}
