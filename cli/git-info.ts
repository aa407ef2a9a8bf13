import { execFile } from 'node:child_process';
import { lstat, realpath, stat } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { parseGoBool } from '../base/go-bool.js';
import { redactCredentials } from '../controller/index.js';
import type { Environment } from './command-io.js';

/**
 * GitInfo is what a build tells of the git checkout its context folder is in, as buildx sends it to BuildKit; with a
 * warning instead when the checkout cannot be read (the build goes on without it, as with buildx).
 */
export interface GitInfo {
  readonly warning?: string;
  /** `vcs:` attributes without the prefix: source (remote URL), revision (commit), localdir:NAME (a local source's folder). */
  readonly vcs: Record<string, string>;
  /** Labels BUILDX_GIT_LABELS asks for: the OCI source and revision, and the Dockerfile's path in the checkout. */
  readonly labels: Record<string, string>;
}

/** GitInfoInput names the local sources of a build: the context folder, the Dockerfile and local named contexts. */
export interface GitInfoInput {
  readonly contextDir: string;
  readonly dockerfile: string | undefined;
  readonly namedDirs: readonly { readonly name: string; readonly dir: string }[];
  readonly env: Environment;
  readonly signal?: AbortSignal;
}

/** envBool reads an environment value as Go's strconv.ParseBool; undefined when it is none. */
function envBool(env: Environment, name: string): boolean | undefined {
  const v = env[name];
  return v === undefined ? undefined : parseGoBool(v);
}

/**
 * gitInfo reads the git checkout of a context folder as buildx does: with BUILDX_GIT_INFO (default on) the commit,
 * the remote URL (of the branch's upstream, else origin, else upstream; credentials masked) and each local source's
 * folder in the checkout; with BUILDX_GIT_LABELS the image labels of the source, revision and Dockerfile path. The
 * commit has `-dirty` appended when BUILDX_GIT_CHECK_DIRTY is set and the checkout has changes. A folder outside any
 * checkout gives nothing; a `.git` folder git cannot read gives a warning.
 */
export async function gitInfo(input: GitInfoInput): Promise<GitInfo> {
  const none: GitInfo = { vcs: {}, labels: {} };
  const labelsWanted = input.env['BUILDX_GIT_LABELS'] === 'full' || envBool(input.env, 'BUILDX_GIT_LABELS') === true;
  const infoWanted = envBool(input.env, 'BUILDX_GIT_INFO') ?? true;
  if (!labelsWanted && !infoWanted) return none;
  const wd = input.contextDir;
  // Outside any checkout git finds none: no need to start it (a process per build) to be told so.
  if (input.env['GIT_DIR'] === undefined && !(await withinCheckout(wd))) return none;
  const dotGit = await isDir(join(wd, '.git'));
  const git = (...args: string[]): Promise<{ ok: boolean; out: string; err: string }> =>
    new Promise((resolve) => {
      execFile('git', ['-c', 'log.showSignature=false', ...args], { cwd: wd, ...(input.signal === undefined ? {} : { signal: input.signal }), env: { ...input.env, GIT_TERMINAL_PROMPT: '0' } }, (err, stdout, stderr) => {
        if (err !== null && 'code' in err && err.code === 'ENOENT') resolve({ ok: false, out: '', err: 'ENOENT' });
        else resolve({ ok: err === null, out: String(stdout).split('\n')[0]?.replaceAll("'", '') ?? '', err: String(stderr) });
      });
    });
  const inside = await git('rev-parse', '--is-inside-work-tree');
  if (inside.err === 'ENOENT') {
    if (dotGit) return warn('git was not found in the system');
    return none;
  }
  if (!inside.ok || inside.out !== 'true') {
    if (dotGit) return warn('failed to read current commit information with git rev-parse --is-inside-work-tree');
    return none;
  }
  const top = await git('rev-parse', '--show-toplevel');
  if (!top.ok) return warn(`failed to get git root dir: ${top.err.trim()}`);
  const root = top.out;
  const vcs: Record<string, string> = {};
  const labels: Record<string, string> = {};
  const commit = await git('show', '--format=%H', 'HEAD', '--quiet', '--');
  if (!commit.ok && !/unknown revision or path not in the working tree|bad revision/i.test(commit.err)) return warn(`failed to get git commit: ${commit.err.trim()}`);
  if (commit.ok && commit.out !== '') {
    let sha = commit.out;
    if (envBool(input.env, 'BUILDX_GIT_CHECK_DIRTY') === true) {
      const status = await git('status', '--porcelain', '--ignored');
      if (!status.ok || status.out.trim() !== '') sha += '-dirty';
    }
    if (labelsWanted) labels['org.opencontainers.image.revision'] = sha;
    if (infoWanted) vcs['revision'] = sha;
  }
  const url = await remoteUrl(git);
  if (url !== undefined) {
    if (labelsWanted) labels['org.opencontainers.image.source'] = url;
    if (infoWanted) vcs['source'] = url;
  }
  const dockerfile = input.dockerfile ?? join(wd, 'Dockerfile');
  if (labelsWanted) {
    const r = relative(root, dockerfile);
    if (!r.startsWith('..')) labels['com.docker.image.source.entrypoint'] = r;
  }
  if (infoWanted) {
    const locals = [{ name: 'context', dir: wd }, { name: 'dockerfile', dir: dirname(dockerfile) }, ...input.namedDirs];
    for (const l of locals) {
      const dir = await realpath(l.dir).catch((err: unknown) => (isMissing(err) ? undefined : Promise.reject(err)));
      if (dir === undefined) continue;
      const r = relative(root, dir) || '.';
      if (!r.startsWith('..')) vcs[`localdir:${l.name}`] = r;
    }
  }
  return { vcs, labels };
}

/** remoteUrl is the URL of the current branch's upstream remote, else origin's, else upstream's, credentials masked. */
async function remoteUrl(git: (...args: string[]) => Promise<{ ok: boolean; out: string }>): Promise<string | undefined> {
  const remotes: string[] = [];
  const symref = await git('symbolic-ref', '-q', 'HEAD');
  if (symref.ok && symref.out !== '') {
    const tracked = await git('for-each-ref', '--format=%(upstream:remotename)', symref.out);
    if (tracked.ok && tracked.out !== '') remotes.push(tracked.out);
  }
  for (const name of [...remotes, 'origin', 'upstream']) {
    const url = await git('remote', 'get-url', name);
    if (url.ok && url.out !== '') return redactCredentials(url.out);
  }
  return undefined;
}

function warn(reason: string): GitInfo {
  return { vcs: {}, labels: {}, warning: reason };
}

/**
 * withinCheckout tells whether a folder or one of its parents has a `.git` entry (a folder, or a file naming one), where
 * git looks for a checkout; false means git would find none. A folder that cannot be resolved is left to git.
 */
async function withinCheckout(dir: string): Promise<boolean> {
  const real = await realpath(dir).catch((err: unknown) => (isMissing(err) ? undefined : Promise.reject(err)));
  if (real === undefined) return true;
  for (let d = real; ; d = dirname(d)) {
    const found = await lstat(join(d, '.git')).then(
      () => true,
      (err: unknown) => (isMissing(err) ? false : Promise.reject(err)),
    );
    if (found) return true;
    if (dirname(d) === d) return false;
  }
}

async function isDir(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    (err: unknown) => (isMissing(err) ? false : Promise.reject(err)),
  );
}

function isMissing(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && (err.code === 'ENOENT' || err.code === 'ENOTDIR');
}
