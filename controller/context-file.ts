import { mkdir, rename } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { UsageError } from '../base/errors.js';
import { extractArchive, isTarArchive } from '../solver/ops/index.js';
import type { ContextSource } from './request.js';

/** FetchedContext is where a context read from standard input or a URL was put, and its Dockerfile. */
export interface FetchedContext {
  readonly contextDir: string;
  readonly dockerfile: string;
  /** When a context from a URL was last changed (seconds since 1970), when it tells. */
  readonly contextSourceDate?: number;
  /** The URL the context came from and what it resolved to. */
  readonly contextSource?: ContextSource;
}

/**
 * prepareFetchedContext turns a context that came as one file (what `tbuild build -` read from standard input, or an
 * http(s) download), saved as `file` inside `dir`, into a context folder, as docker does: a tar archive (plain, gzip, bzip2, xz or zstd) becomes the context, with the Dockerfile
 * at `dockerfileArg` inside it (default `Dockerfile`); anything else is the Dockerfile, with an empty context.
 */
export async function prepareFetchedContext(file: string, dir: string, dockerfileArg: string | undefined, signal: AbortSignal): Promise<FetchedContext> {
  const contextDir = join(dir, 'context');
  await mkdir(contextDir);
  if (await isTarArchive(file, signal)) {
    await extractArchive(file, contextDir, signal);
    return { contextDir, dockerfile: dockerfileInside(contextDir, dockerfileArg) };
  }
  if (dockerfileArg !== undefined) {
    throw new UsageError('Cannot use -f with a Dockerfile read from standard input', { hint: 'pipe a tar archive of the context to use -f inside it' });
  }
  const dockerfile = join(dir, 'Dockerfile');
  await rename(file, dockerfile);
  return { contextDir, dockerfile };
}

/** dockerfileInside is where `-f` points inside a context that was fetched or unpacked (default `Dockerfile`). */
export function dockerfileInside(contextDir: string, dockerfileArg: string | undefined): string {
  const dockerfile = resolve(contextDir, dockerfileArg ?? 'Dockerfile');
  const rel = relative(contextDir, dockerfile);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`)) {
    throw new UsageError(`Cannot use -f ${dockerfileArg ?? ''}: with a context from standard input or a URL, -f names a file inside it`);
  }
  return dockerfile;
}
