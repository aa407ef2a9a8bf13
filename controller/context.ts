import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { errnoCode, UsageError } from '../base/errors.js';
import { readTextIfExists } from '../base/fs.js';
import { readIgnoreFile } from '../frontend/index.js';
import { ContextFilter } from './context-filter.js';
import type { LocalContext } from '../solver/ops/index.js';

/** readContextIgnore reads the ignore file of a build: `<Dockerfile>.dockerignore` first, then the context's `.dockerignore`. */
export async function readContextIgnore(dir: string, dockerfile: string): Promise<string | null> {
  const specific = await readTextIfExists(join(dirname(dockerfile), `${basename(dockerfile)}.dockerignore`));
  return specific ?? (await readTextIfExists(join(dir, '.dockerignore')));
}

/**
 * loadContext opens a build context folder with its ignore file applied (its patterns, when the caller has read
 * them already); an excluded directory still yields what `!` exceptions keep below it, as BuildKit's context walk does.
 */
export async function loadContext(dir: string, dockerfile: string, ignored?: readonly string[]): Promise<LocalContext> {
  const patterns = ignored ?? readIgnoreFile(await readContextIgnore(dir, dockerfile));
  if (patterns.length === 0) return { dir, isExcluded: () => false };
  const filter = new ContextFilter(dir, patterns);
  return { dir, isExcluded: (relPath) => filter.isExcluded(relPath) };
}

/**
 * readDockerfile reads the Dockerfile of a build. A missing `Dockerfile` falls back to `dockerfile` in the same
 * folder, as BuildKit does (the ignore file is still looked up as `Dockerfile.dockerignore`).
 */
export async function readDockerfile(path: string): Promise<Buffer> {
  const candidates = basename(path) === 'Dockerfile' ? [path, join(dirname(path), 'dockerfile')] : [path];
  for (const candidate of candidates) {
    try {
      return await readFile(candidate);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
    }
  }
  throw new UsageError(`Cannot read Dockerfile "${path}": no such file`, { hint: 'pass the file with -f or check the context path' });
}
