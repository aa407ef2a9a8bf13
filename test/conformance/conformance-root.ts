import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** REPO_ROOT is the repository checkout the tests run from. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** CONFORMANCE_ROOT is the shared conformance data folder next to the repository. */
export const CONFORMANCE_ROOT = path.resolve(REPO_ROOT, '..', 'shared', 'conformance');

/** conformanceDir returns the suite folder; a missing folder fails the suite, since a suite that cannot run proves nothing. */
export function conformanceDir(suite: string): string {
  const dir = path.join(CONFORMANCE_ROOT, suite);
  if (!existsSync(dir)) throw new Error(`conformance data not found at ${dir}: check out ../shared beside the repository`);
  return dir;
}
