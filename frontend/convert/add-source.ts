import { posix } from 'node:path';
import { DockerfileError, type SourceLocation } from '../../base/errors.js';
import type { Edge, GitSource } from '../../solver/graph/index.js';
import type { CompileContext } from './context.js';
import type { StageState } from './stage-state.js';

/** AddSourceKind is what an ADD source names: a context path, an HTTP(S) file or a git repository. */
export type AddSourceKind = { readonly type: 'local' } | { readonly type: 'http'; readonly url: string } | { readonly type: 'git'; readonly git: Omit<GitSource, 'type' | 'keepGitDir'> };

/** parseGitRef reads a git URL like BuildKit's gitutil.ParseGitRef: ssh, git:// and http(s) ending in .git. */
export function parseGitRef(src: string): Omit<GitSource, 'type' | 'keepGitDir'> | undefined {
  const hash = src.indexOf('#');
  let remote = hash < 0 ? src : src.slice(0, hash);
  let fragment = hash < 0 ? '' : src.slice(hash + 1);
  // The query form (`repo.git?ref=v1&subdir=dir`, also `tag=`/`branch=`) says what the fragment says.
  const query = hash < 0 ? /^(https?:\/\/[^?]+\.git|git:\/\/[^?]+|ssh:\/\/[^?]+)\?(.*)$/i.exec(remote) : null;
  if (query?.[1] !== undefined) {
    const params = new URLSearchParams(query[2] ?? '');
    const ref = params.get('ref') ?? params.get('tag') ?? params.get('branch') ?? '';
    const subdir = params.get('subdir') ?? '';
    remote = query[1];
    fragment = subdir === '' ? ref : `${ref}:${subdir}`;
  }
  if (remote.startsWith('github.com/')) remote = `https://${remote}`;
  let isGit = /^(git:\/\/|ssh:\/\/|git@[^:]+:)/i.test(remote);
  if (!isGit && /^https?:\/\//i.test(remote)) {
    try {
      const u = new URL(remote);
      isGit = u.pathname.endsWith('.git') || (u.hostname === 'github.com' && u.pathname.split('/').filter(Boolean).length === 2);
    } catch {
      isGit = false;
    }
  }
  if (!isGit) return undefined;
  const colon = fragment.indexOf(':');
  const ref = colon < 0 ? fragment : fragment.slice(0, colon);
  const subdir = colon < 0 ? '' : fragment.slice(colon + 1);
  return { remote, ref, subdir };
}

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

/** httpSourceEdge adds the SourceOp of an HTTP download. */
export function httpSourceEdge(ctx: CompileContext, state: StageState, url: string, checksum: string | undefined, location: SourceLocation): Edge {
  if (checksum !== undefined && !/^sha256:[a-f0-9]{64}$/.test(checksum)) {
    throw new DockerfileError(`invalid checksum digest format "${checksum}": expected sha256:<64 hex digits>`, { location });
  }
  const source = { type: 'http' as const, url, filename: urlFilename(url), ...(checksum === undefined ? {} : { checksum }) };
  return ctx.graph.add({ kind: 'source', source, platform: state.platform }, [], { name: `[internal] load ${url}`, location });
}

/** gitSourceEdge adds the SourceOp of a git checkout. */
export function gitSourceEdge(
  ctx: CompileContext,
  state: StageState,
  git: Omit<GitSource, 'type' | 'keepGitDir' | 'checksum'>,
  options: { keepGitDir: boolean; checksum: string | undefined },
  location: SourceLocation,
): Edge {
  if (options.checksum !== undefined && !/^[0-9a-f]{7,64}$/i.test(options.checksum)) {
    throw new DockerfileError(`invalid checksum "${options.checksum}" for a git source: expected a commit hash`, { location });
  }
  const source: GitSource = { type: 'git', ...git, keepGitDir: options.keepGitDir, ...(options.checksum === undefined ? {} : { checksum: options.checksum }) };
  const name = `[internal] load git source ${git.remote}${git.ref === '' ? '' : `#${git.ref}`}${git.subdir === '' ? '' : `:${git.subdir}`}`;
  return ctx.graph.add({ kind: 'source', source, platform: state.platform }, [], { name, location });
}
