import { basename, dirname, join } from 'node:path';
import { readTextIfExists } from '../base/fs.js';
import { ContextFilter } from '../frontend/dockerignore/context-filter.js';
import { readIgnoreFile } from '../frontend/dockerignore/read-ignore-file.js';
import type { LocalContext } from '../solver/ops/index.js';

/** readContextIgnore reads the ignore file of a build: `<Dockerfile>.dockerignore` first, then the context's `.dockerignore`. */
export async function readContextIgnore(dir: string, dockerfile: string): Promise<string | null> {
  const specific = await readTextIfExists(join(dirname(dockerfile), `${basename(dockerfile)}.dockerignore`));
  return specific ?? (await readTextIfExists(join(dir, '.dockerignore')));
}

/**
 * loadContext opens a build context folder with its ignore file applied; an excluded directory still yields
 * what `!` exceptions keep below it, as BuildKit's context walk does.
 */
export async function loadContext(dir: string, dockerfile: string): Promise<LocalContext> {
  const patterns = readIgnoreFile(await readContextIgnore(dir, dockerfile));
  if (patterns.length === 0) return { dir, isExcluded: () => false };
  const filter = new ContextFilter(dir, patterns);
  return { dir, isExcluded: (relPath) => filter.isExcluded(relPath) };
}
