import { posix } from 'node:path';
import { DockerfileError } from '../../base/errors.js';
import type { GitSource } from '../../solver/graph/index.js';

/** GitRef is what a git URL names: the remote, the ref and subdir, and the options its query sets. */
export type GitRef = Omit<GitSource, 'type' | 'keepGitDir'> & { readonly keepGitDir?: boolean };

const COMMIT = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i;
const FLAGS = new Set(['keep-git-dir', 'submodules', 'fetch-by-commit']);

function queryBool(key: string, value: string): boolean {
  if (value === '') return true;
  const v = value.toLowerCase();
  if (['1', 't', 'true'].includes(v)) return true;
  if (['0', 'f', 'false'].includes(v)) return false;
  throw new DockerfileError(`invalid ${key} value: "${value}"`);
}

/** qualified prefixes a tag or branch name with refs/tags/ or refs/heads/ and checks it against a ref already given. */
function qualified(ref: string, name: string, prefix: string): string {
  const full = name.startsWith(prefix) ? name : `${prefix}${name}`;
  if (ref !== '' && ref !== full) throw new DockerfileError(`ref conflicts: "${ref}" vs "${full}"`);
  return full;
}

/**
 * applyQuery reads a git URL's query (`?ref=…&tag=…&branch=…&commit=…&subdir=…&keep-git-dir&submodules=false&mtime=commit`)
 * on top of what the `#ref:subdir` fragment said, as BuildKit's Dockerfile frontend does: a tag or branch name
 * is qualified (refs/tags/…, refs/heads/…) so that only that kind of ref matches, `commit` (or `checksum`) is the
 * commit the ref must resolve to, and a value that contradicts the fragment is an error.
 */
function applyQuery(base: GitRef, query: string): GitRef {
  let { ref, subdir } = base;
  let checksum: string | undefined;
  let keepGitDir: boolean | undefined;
  let submodules: boolean | undefined;
  let mtime: 'commit' | undefined;
  let fetchByCommit = false;
  let tag = '';
  let branch = '';
  const params = new URLSearchParams(query);
  for (const key of new Set(params.keys())) {
    const values = params.getAll(key);
    if (values.length > 1) throw new DockerfileError(`query "${key}" has multiple values`);
    const value = values[0] ?? '';
    if (value === '' && !FLAGS.has(key)) throw new DockerfileError(`query "${key}" has no value`);
    switch (key) {
      case 'ref':
        if (ref !== '' && ref !== value) throw new DockerfileError(`ref conflicts: "${ref}" vs "${value}"`);
        ref = value;
        break;
      case 'tag':
        tag = value;
        break;
      case 'branch':
        branch = value;
        break;
      case 'subdir':
        if (subdir !== '' && subdir !== value) throw new DockerfileError(`subdir conflicts: "${subdir}" vs "${value}"`);
        subdir = value;
        break;
      case 'commit':
      case 'checksum':
        checksum = value;
        break;
      case 'keep-git-dir':
        keepGitDir = queryBool(key, value);
        break;
      case 'submodules':
        submodules = queryBool(key, value);
        break;
      case 'mtime':
        if (value !== 'checkout' && value !== 'commit') throw new DockerfileError(`invalid mtime value: "${value}" (must be "checkout" or "commit")`);
        mtime = value === 'commit' ? 'commit' : undefined;
        break;
      case 'fetch-by-commit':
        fetchByCommit = queryBool(key, value);
        break;
      default:
        throw new DockerfileError(`unexpected query "${key}"`);
    }
  }
  if (tag !== '') ref = qualified(ref, tag, 'refs/tags/');
  if (branch !== '') {
    if (tag !== '') throw new DockerfileError('branch conflicts with tag');
    ref = qualified(ref, branch, 'refs/heads/');
  }
  // fetch-by-commit trusts the commit instead of looking the ref up on the remote.
  if (fetchByCommit && !COMMIT.test(ref)) {
    if (checksum === undefined) throw new DockerfileError('fetch-by-commit requires a checksum or a commit SHA ref');
    if (!COMMIT.test(checksum)) throw new DockerfileError(`fetch-by-commit requires a full commit SHA checksum, got "${checksum}"`);
    ref = checksum;
  }
  return {
    remote: base.remote,
    ref,
    subdir,
    ...(checksum === undefined ? {} : { checksum }),
    ...(keepGitDir === undefined ? {} : { keepGitDir }),
    ...(submodules === undefined ? {} : { submodules }),
    ...(mtime === undefined ? {} : { mtime }),
  };
}

/**
 * parseGitRef reads a git URL like BuildKit's ParseGitRef: ssh, git:// and http(s) ending in .git (or a github.com
 * owner/name), with a `#ref:subdir` fragment and BuildKit's query options. Undefined when the URL is no repository.
 */
export function parseGitRef(src: string): GitRef | undefined {
  const hash = src.indexOf('#');
  let remote = hash < 0 ? src : src.slice(0, hash);
  const fragment = hash < 0 ? '' : src.slice(hash + 1);
  const mark = remote.indexOf('?');
  const query = mark < 0 ? '' : remote.slice(mark + 1);
  if (mark >= 0) remote = remote.slice(0, mark);
  if (remote.startsWith('github.com/')) remote = `https://${remote}`;
  let isGit = /^(git:\/\/|ssh:\/\/|git@[^:]+:)/i.test(remote);
  if (!isGit && /^https?:\/\//i.test(remote) && URL.canParse(remote)) {
    const u = new URL(remote);
    isGit = u.pathname.endsWith('.git') || (u.hostname === 'github.com' && u.pathname.split('/').filter(Boolean).length === 2);
  }
  if (!isGit) return undefined;
  const colon = fragment.indexOf(':');
  const ref = colon < 0 ? fragment : fragment.slice(0, colon);
  const subdir = colon < 0 ? '' : posix.join('/', fragment.slice(colon + 1)).slice(1);
  const base: GitRef = { remote, ref, subdir };
  return query === '' ? base : applyQuery(base, query);
}
