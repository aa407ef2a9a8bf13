import { realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errnoCode } from '../base/errors.js';

/** Files whose change means the resident process runs old code: the bundle, its chunk folder and the packages. */
const CODE_FILES = ['bin/tbuild.js', 'bin/load-bundle.js', 'dist/bundle/main.cjs', 'dist/bundle', 'package.json', 'node_modules/.package-lock.json'];

/** repoRoot returns the canonical path of the checkout this code was loaded from (dist/bundle/ is two levels down). */
export async function repoRoot(): Promise<string> {
  return realpath(fileURLToPath(new URL('../../', import.meta.url)));
}

async function fileIdentity(repo: string, file: string): Promise<string> {
  try {
    const s = await stat(join(repo, file));
    return `${file}:${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return `${file}:absent`;
    throw err;
  }
}

/**
 * readCodeIdentity fingerprints the code of a checkout by the inode, size and times of its build output, so a
 * rebuild (`npm run build` replaces dist/bundle/) or a package install is noticed without reading any file.
 */
export async function readCodeIdentity(repo: string): Promise<string> {
  return (await Promise.all(CODE_FILES.map((f) => fileIdentity(repo, f)))).join('|');
}
