import { posix } from 'node:path';
import { DockerfileError, type SourceLocation } from '../../base/errors.js';
import type { Edge, GitSource, HttpSource } from '../../solver/graph/index.js';
import { parseGitRef, type GitRef } from './git-ref.js';
import type { CompileContext } from './context.js';
import type { StageState } from './stage-state.js';

/** AddSourceKind is what an ADD source names: a context path, an HTTP(S) file or a git repository. */
export type AddSourceKind = { readonly type: 'local' } | { readonly type: 'http'; readonly url: string } | { readonly type: 'git'; readonly git: GitRef };

/** classifyAddSource tells what an ADD source names (only ADD reads URLs and repositories). */
export function classifyAddSource(src: string): AddSourceKind {
  const git = parseGitRef(src);
  if (git !== undefined) return { type: 'git', git };
  if (/^https?:\/\//i.test(src)) return { type: 'http', url: src };
  return { type: 'local' };
}

/** urlFilename is the name a downloaded file gets: the URL path's last element, as the Dockerfile frontend does. */
export function urlFilename(url: string): string {
  try {
    const base = posix.basename(new URL(url).pathname);
    return base === '' || base === '.' || base === '/' ? '__unnamed__' : decodeURIComponent(base);
  } catch {
    return '__unnamed__';
  }
}

/** httpSourceOf is the source of an ADD from a URL, with its --checksum. */
export function httpSourceOf(url: string, checksum: string | undefined, location: SourceLocation): HttpSource {
  if (checksum !== undefined && !/^sha256:[a-f0-9]{64}$/.test(checksum)) {
    throw new DockerfileError(`invalid checksum digest format "${checksum}": expected sha256:<64 hex digits>`, { location });
  }
  return { type: 'http', url, filename: urlFilename(url), ...(checksum === undefined ? {} : { checksum }) };
}

/** httpSourceEdge adds the SourceOp of an HTTP download. */
export function httpSourceEdge(ctx: CompileContext, state: StageState, url: string, checksum: string | undefined, location: SourceLocation): Edge {
  const source = httpSourceOf(url, checksum, location);
  return ctx.graph.add({ kind: 'source', source, platform: state.platform }, [], { name: `[internal] load ${url}`, location });
}

/** gitSourceOf is the source of an ADD from a git repository; ADD's --keep-git-dir and --checksum join the URL's query. */
export function gitSourceOf(git: GitRef, options: { keepGitDir: boolean | undefined; checksum: string | undefined }, location: SourceLocation): GitSource {
  if (options.keepGitDir !== undefined && git.keepGitDir !== undefined && options.keepGitDir !== git.keepGitDir) {
    throw new DockerfileError('inconsistent keep-git-dir configuration', { location });
  }
  const checksum = options.checksum ?? git.checksum;
  if (checksum !== undefined && !/^[0-9a-f]+$/i.test(checksum)) {
    throw new DockerfileError(`invalid checksum ${checksum} for Git URL, expected hex commit hash`, { location });
  }
  if (options.checksum !== undefined && git.checksum !== undefined && options.checksum !== git.checksum) {
    throw new DockerfileError(`checksum mismatch "${options.checksum}" != "${git.checksum}"`, { location });
  }
  const keepGitDir = options.keepGitDir ?? git.keepGitDir ?? false;
  return { type: 'git', ...git, keepGitDir, ...(checksum === undefined ? {} : { checksum }) };
}

/** gitSourceEdge adds the SourceOp of a git checkout. */
export function gitSourceEdge(
  ctx: CompileContext,
  state: StageState,
  git: GitRef,
  options: { keepGitDir: boolean | undefined; checksum: string | undefined },
  location: SourceLocation,
): Edge {
  const source = gitSourceOf(git, options, location);
  const name = `[internal] load git source ${git.remote}${git.ref === '' ? '' : `#${git.ref}`}${git.subdir === '' ? '' : `:${git.subdir}`}`;
  return ctx.graph.add({ kind: 'source', source, platform: state.platform }, [], { name, location });
}
