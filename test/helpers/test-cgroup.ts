import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathExists } from '../../base/fs.js';
import { listCgroupChildren, removeCgroupDir } from '../../executor/cgroup.js';
import { cgroupRoots } from '../../executor/cgroup-layout.js';

/** TestCgroup is a cgroup a test makes at the root of the hierarchies, to name as a cgroup parent. */
export interface TestCgroup extends AsyncDisposable {
  /** Its name: the path from each hierarchy's root. */
  readonly name: string;
  /** The folder of its pids limit (cgroup2's root, or the v1 pids hierarchy's). */
  readonly pidsDir: string;
  /** leftovers lists the folders under it, in any hierarchy, that are not the test's own. */
  leftovers(): Promise<string[]>;
}

/** removeTree removes a cgroup folder after the folders under it, killing any process still in one. */
async function removeTree(dir: string): Promise<void> {
  for (const child of await listCgroupChildren(dir)) await removeTree(join(dir, child));
  await removeCgroupDir(dir);
}

/**
 * makeTestCgroup makes a cgroup (as BuildKit's testCgroupParent makes one) with the pids limit given; disposing it
 * removes it, and whatever builds made in or under it, from every hierarchy.
 */
export async function makeTestCgroup(pidsMax: number): Promise<TestCgroup> {
  const name = `tbuild-test.${randomBytes(6).toString('hex')}`;
  const v2 = await pathExists('/sys/fs/cgroup/cgroup.subtree_control');
  const pidsDir = join(v2 ? '/sys/fs/cgroup' : '/sys/fs/cgroup/pids', name);
  await mkdir(pidsDir);
  await writeFile(join(pidsDir, 'pids.max'), String(pidsMax));
  const dirs = async (): Promise<string[]> => {
    const found: string[] = [];
    for (const root of await cgroupRoots()) if (await pathExists(join(root, name))) found.push(join(root, name));
    return found;
  };
  return {
    name,
    pidsDir,
    async leftovers() {
      const out: string[] = [];
      for (const dir of await dirs()) out.push(...(await listCgroupChildren(dir)).map((c) => join(dir, c)));
      return out;
    },
    async [Symbol.asyncDispose]() {
      for (const dir of await dirs()) await removeTree(dir);
    },
  };
}
