import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExecError } from '../base/errors.js';
import { pathExists } from '../base/fs.js';

/** HELPER_RELATIVE_PATH is where `make -C native` puts the sandbox helper, relative to the package root. */
export const HELPER_RELATIVE_PATH = 'native/build/tbuild-sandbox';

/**
 * findHelper locates the sandbox helper by walking up from this module to the directory holding package.json. An
 * installed package builds it at `npm install` when the machine has a C compiler and make (native/install.sh); the
 * error says how to get it then, or how to run RUN steps without it.
 */
export async function findHelper(from: string = fileURLToPath(import.meta.url)): Promise<string> {
  let dir = path.dirname(from);
  for (;;) {
    if (await pathExists(path.join(dir, 'package.json'))) {
      const helper = path.join(dir, HELPER_RELATIVE_PATH);
      if (await pathExists(helper)) return helper;
      throw new ExecError(
        `Cannot find the sandbox helper ${helper}: it is built from native/ with a C compiler and make, by npm install ` +
          `(install both, then run 'npm rebuild tbuild', with -g for a global install) or by 'npm run build' in a checkout; ` +
          `or run RUN steps with --oci-runtime runc or crun`,
        { code: 'EXEC_START', argv: [] },
      );
    }
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new ExecError(`Cannot find the sandbox helper "${HELPER_RELATIVE_PATH}": no package.json above ${from}`, {
    code: 'EXEC_START',
    argv: [],
  });
}
