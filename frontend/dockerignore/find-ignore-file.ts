import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { readIgnoreFile } from './read-ignore-file.js';

/** FindIgnoreFileOptions carries the abort signal of an ignore-file lookup. */
export interface FindIgnoreFileOptions {
  readonly signal: AbortSignal;
}

function isNotFound(err: unknown): boolean {
  return err instanceof Error && 'code' in err && (err.code === 'ENOENT' || err.code === 'ENOTDIR');
}

/**
 * findIgnoreFile returns the ignore file that applies: `<Dockerfile>.dockerignore` next to the Dockerfile
 * wins over the context's `.dockerignore`; undefined when neither exists. A relative dockerfilePath is
 * taken relative to contextDir.
 */
export async function findIgnoreFile(
  contextDir: string,
  dockerfilePath: string,
  options: FindIgnoreFileOptions,
): Promise<string | undefined> {
  const dockerfile = path.resolve(contextDir, dockerfilePath);
  for (const candidate of [`${dockerfile}.dockerignore`, path.join(contextDir, '.dockerignore')]) {
    options.signal.throwIfAborted();
    try {
      if ((await stat(candidate)).isFile()) return candidate;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
  return undefined;
}

/** loadIgnorePatterns reads the patterns of the ignore file that applies, or none when there is none. */
export async function loadIgnorePatterns(
  contextDir: string,
  dockerfilePath: string,
  options: FindIgnoreFileOptions,
): Promise<string[]> {
  const file = await findIgnoreFile(contextDir, dockerfilePath, options);
  if (file === undefined) return [];
  return readIgnoreFile(await readFile(file, { encoding: 'utf8', signal: options.signal }));
}
