import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { errnoCode, UsageError } from '../base/errors.js';
import { readTextIfExists } from '../base/fs.js';
import { mayReincludeBelow, PatternMatcher, readIgnoreFile } from '../frontend/index.js';
import { ContextFilter } from './context-filter.js';
import type { LocalContext } from '../solver/ops/index.js';
import type { DockerfileBytes } from './request.js';

/** readContextIgnore reads the ignore file of a build: `<Dockerfile>.dockerignore` first, then the context's `.dockerignore`. */
export async function readContextIgnore(dir: string, dockerfile: string): Promise<string | null> {
  const specific = await readTextIfExists(join(dirname(dockerfile), `${basename(dockerfile)}.dockerignore`));
  return specific ?? (await readTextIfExists(join(dir, '.dockerignore')));
}

/**
 * openContextFolder opens a build context folder filtered by ignore patterns; an excluded directory still yields what
 * `!` exceptions keep below it, as BuildKit's context walk does.
 */
export function openContextFolder(dir: string, patterns: readonly string[]): LocalContext {
  const scanKey = JSON.stringify(patterns);
  if (patterns.length === 0) return { dir, isExcluded: () => false, scanKey };
  const matcher = new PatternMatcher(patterns);
  const filter = new ContextFilter(dir, matcher);
  // Left out by the patterns alone: no exception could bring back the path or anything below it.
  const isSurelyExcluded = (relPath: string): boolean => matcher.matchesOrParentMatches(relPath) && !mayReincludeBelow(matcher, relPath);
  return { dir, isExcluded: (relPath) => filter.isExcluded(relPath), scanKey, isSurelyExcluded };
}

/** contextPatterns are the ignore patterns of a context folder: the given ignore text, else its own `.dockerignore`. */
export async function contextPatterns(dir: string, ignore: string | undefined): Promise<string[]> {
  return readIgnoreFile(ignore ?? (await readTextIfExists(join(dir, '.dockerignore'))));
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

/** readDockerfileSource reads a Dockerfile on disk, with the `<name>.dockerignore` beside it when there is one. */
export async function readDockerfileSource(path: string): Promise<DockerfileBytes> {
  const bytes = await readDockerfile(path);
  const ignore = await readTextIfExists(join(dirname(path), `${basename(path)}.dockerignore`));
  return { name: basename(path), bytes, ...(ignore === null ? {} : { ignore }) };
}
