import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../base/errors.js';
import { parseGitRef } from '../frontend/index.js';
import { isTarArchive, loadGitSource, loadHttpSource, newestFileTime } from '../solver/ops/index.js';
import { dockerfileInside, prepareFetchedContext, type FetchedContext } from './context-file.js';

/**
 * fetchRemoteContext fetches a context given as a URL into `dir`, as docker build does: a git repository
 * (`https://…/repo.git#ref:subdir`, `git@host:repo.git`, `git://…`, `github.com/…`) is checked out at the ref, the
 * subdir becoming the context; any other http(s) URL is downloaded and read like a context on standard input (a tar
 * archive, or else a Dockerfile with an empty context). `-f` names a file inside the context (ignored for a plain
 * Dockerfile, as BuildKit does).
 */
export async function fetchRemoteContext(url: string, dir: string, dockerfileArg: string | undefined, signal: AbortSignal): Promise<FetchedContext> {
  const git = parseGitRef(url);
  if (git !== undefined) {
    // Loaded only for URL contexts: a build from a folder never loads the git or HTTP code.
    const { checkoutGitTo, resolveGitCommit } = await loadGitSource();
    const source = { type: 'git' as const, ...git, keepGitDir: git.keepGitDir ?? false };
    const commit = await resolveGitCommit(source, signal);
    const contextDir = join(dir, 'context');
    await mkdir(contextDir);
    const committed = await checkoutGitTo(source, commit, contextDir, signal);
    return { contextDir, dockerfile: dockerfileInside(contextDir, dockerfileArg), contextSourceDate: committed, contextSource: { type: 'git', url, commit } };
  }
  if (!/^https?:\/\//i.test(url)) throw new UsageError(`Cannot use context "${url}": expected a folder, -, a git repository or an http(s) URL`);
  const { downloadHttp } = await loadHttpSource();
  await using download = await downloadHttp({ type: 'http', url, filename: '' }, signal);
  const saved = join(dir, 'download');
  await copyFile(download.file, saved);
  // A plain Dockerfile at a URL is the Dockerfile whatever -f names, as BuildKit reads it.
  const name = (await isTarArchive(saved, signal)) ? dockerfileArg : undefined;
  // The download is dated by its Last-Modified header, else by its newest file when it is an archive.
  const date = download.mtime === undefined ? await newestFileTime(saved, signal) : Math.floor(download.mtime.getTime() / 1000);
  // Awaited here: a failure must not settle while the download is being removed, with no one listening yet.
  const fetched = { ...(await prepareFetchedContext(saved, dir, name, signal)), contextSource: { type: 'http' as const, url, digest: download.digest } };
  return date === undefined ? fetched : { ...fetched, contextSourceDate: date };
}
