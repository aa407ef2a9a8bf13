import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExecError } from '../base/errors.js';
import { pathExists } from '../base/fs.js';

/** HELPER_RELATIVE_PATH is where `make -C native` puts the sandbox helper, relative to the package root. */
export const HELPER_RELATIVE_PATH = 'native/build/tbuild-sandbox';

/** findHelper locates the sandbox helper by walking up from this module to the directory holding package.json. */
export async function findHelper(from: string = fileURLToPath(import.meta.url)): Promise<string> {
  let dir = path.dirname(from);
  for (;;) {
    if (await pathExists(path.join(dir, 'package.json'))) {
      const helper = path.join(dir, HELPER_RELATIVE_PATH);
      if (await pathExists(helper)) return helper;
      break;
    }
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new ExecError(`Cannot find the sandbox helper "${HELPER_RELATIVE_PATH}"`, {
    code: 'EXEC_START',
    argv: [],
  });
}
