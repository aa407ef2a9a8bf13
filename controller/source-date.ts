import type { SourceDateResolver } from '../frontend/index.js';
import type { GitSource, HttpSource } from '../solver/graph/index.js';
import { loadGitSource, loadHttpSource, newestFileTime } from '../solver/ops/index.js';

/**
 * createSourceDateResolver dates what SOURCE_DATE_EPOCH names, as BuildKit does: the build context by the date it was
 * fetched with (`contextDate`: none for a local folder), an HTTP source by its Last-Modified header, else by the newest
 * file of the download when it is an archive, and a git source by its commit's committer time (git running in the
 * caller's environment).
 */
export function createSourceDateResolver(contextDate: number | undefined, processEnv: Readonly<Record<string, string>>): SourceDateResolver {
  return async (subject, { signal }) => {
    if (subject.kind === 'context') return contextDate;
    const { source } = subject;
    return source.type === 'http' ? httpSourceDate(source, signal) : gitSourceDate(source, { signal, env: processEnv });
  };
}

async function httpSourceDate(source: HttpSource, signal: AbortSignal): Promise<number | undefined> {
  const { downloadHttp } = await loadHttpSource();
  await using download = await downloadHttp(source, signal);
  if (download.mtime !== undefined) return Math.floor(download.mtime.getTime() / 1000);
  return await newestFileTime(download.file, signal);
}

async function gitSourceDate(source: GitSource, run: { readonly signal: AbortSignal; readonly env: Readonly<Record<string, string>> }): Promise<number> {
  const { gitCommitTime, resolveGitCommit } = await loadGitSource();
  return gitCommitTime(source, await resolveGitCommit(source, run), run);
}
