import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { errnoCode } from '../base/errors.js';
import { PatternMatcher } from '../frontend/dockerignore/pattern-matcher.js';
import { readIgnoreFile } from '../frontend/dockerignore/read-ignore-file.js';
import type { LocalContext } from '../solver/ops/index.js';

async function readOptional(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return null;
    throw err;
  }
}

/** loadContext opens a build context folder with its .dockerignore (`<Dockerfile>.dockerignore` first). */
export async function loadContext(dir: string, dockerfile: string): Promise<LocalContext> {
  const specific = await readOptional(join(dirname(dockerfile), `${basename(dockerfile)}.dockerignore`));
  const text = specific ?? (await readOptional(join(dir, '.dockerignore')));
  const patterns = readIgnoreFile(text);
  if (patterns.length === 0) return { dir, isExcluded: () => false };
  const matcher = new PatternMatcher(patterns);
  return { dir, isExcluded: (relPath) => matcher.matchesOrParentMatches(relPath) };
}
