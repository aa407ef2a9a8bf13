import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** REPO_ROOT is the repository checkout the tests run from. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** CONFORMANCE_ROOT is the shared conformance data folder next to the repository. */
export const CONFORMANCE_ROOT = path.resolve(REPO_ROOT, '..', 'shared', 'conformance');

/** conformanceDir returns the suite folder, or undefined (with a visible notice) when it is missing. */
export function conformanceDir(suite: string): string | undefined {
  const dir = path.join(CONFORMANCE_ROOT, suite);
  if (existsSync(dir)) return dir;
  console.warn(`conformance data not found at ${dir}: the ${suite} suite is skipped`);
  return undefined;
}
