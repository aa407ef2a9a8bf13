import { execFile } from 'node:child_process';
import { mkdtemp, rm, lstat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { promisify } from 'node:util';
import { FileOpError } from '../../base/errors.js';
import type { Snapshotter } from '../../cache/index.js';
import type { GitSource } from '../graph/index.js';

const exec = promisify(execFile);
/** GitRun is how git runs for one build: cancelled by its signal, in the environment of the build's caller. */
export interface GitRun {
  readonly signal: AbortSignal;
  /** The caller's environment (HOME for its git settings, SSH_AUTH_SOCK and proxies for the remote). */
  readonly env: Readonly<Record<string, string>>;
}

/** gitEnv is the caller's environment with git kept from prompting and from the system's settings. */
function gitEnv(env: GitRun['env']): Record<string, string> {
  return { ...env, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', LC_ALL: 'C' };
}
/** COMMIT is a full commit id: SHA-1 or SHA-256. */
const COMMIT = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i;

async function git(args: readonly string[], run: GitRun, cwd?: string): Promise<string> {
  try {
    const { stdout } = await exec('git', [...args], { cwd, env: gitEnv(run.env), signal: run.signal, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    if (run.signal.aborted) throw err;
    const stderr = typeof err === 'object' && err !== null && 'stderr' in err ? String(err.stderr).trim() : '';
    throw new FileOpError(`Cannot run "git ${args.join(' ')}": ${stderr}`, { cause: err });
  }
}

/** resolveGitCommit pins a git source's ref (or the remote's default branch) to a commit id, checked against --checksum. */
export async function resolveGitCommit(source: GitSource, run: GitRun): Promise<string> {
  const checksum = source.checksum?.toLowerCase();
  if (checksum !== undefined && !/^[0-9a-f]+$/.test(checksum)) {
    throw new FileOpError(`invalid checksum ${source.checksum ?? ''} for Git URL, expected hex commit hash`);
  }
  if (COMMIT.test(source.ref)) {
    if (checksum !== undefined && !source.ref.toLowerCase().startsWith(checksum)) throw new FileOpError(`expected checksum to match ${checksum}, got ${source.ref}`);
    return source.ref.toLowerCase();
  }
  const { commit, tagObject } = await resolveRef(source, run);
  if (checksum !== undefined && !commit.startsWith(checksum) && !(tagObject ?? '').startsWith(checksum)) {
    throw new FileOpError(`expected checksum to match ${checksum}, got ${tagObject === undefined ? commit : `${tagObject} or ${commit}`}`);
  }
  return commit;
}

/** defaultBranch is the branch the remote's HEAD names (HEAD itself when the remote does not say). */
async function defaultBranch(remote: string, run: GitRun): Promise<string> {
  const out = await git(['ls-remote', '--symref', '--', remote, 'HEAD'], run);
  return /^ref: (refs\/\S+)\tHEAD$/m.exec(out)?.[1] ?? 'HEAD';
}

/**
 * resolveRef finds a ref as git checkout would: `refs/<ref>` or `HEAD` as written, else the branch
 * `refs/heads/<ref>`, else the tag `refs/tags/<ref>` (peeled to its commit). A name matching neither exactly
 * (an abbreviated commit, a branch asked for with refs/heads/ that is a tag) is not in the repository.
 */
async function resolveRef(source: GitSource, run: GitRun): Promise<{ commit: string; tagObject?: string }> {
  const ref = source.ref === '' ? await defaultBranch(source.remote, run) : source.ref;
  const out = await git(['ls-remote', '--', source.remote, ref, `${ref}^{}`], run);
  const refs = new Map(out.split('\n').filter((l) => l.includes('\t')).map((l) => { const [id = '', name = ''] = l.split('\t'); return [name, id] as const; }));
  const bare = ref.replace(/^refs\//, '');
  const exact = refs.get(ref === 'HEAD' ? 'HEAD' : `refs/${bare}`) ?? refs.get(`refs/heads/${bare.replace(/^heads\//, '')}`);
  const tagName = `refs/tags/${bare.replace(/^tags\//, '')}`;
  const tag = refs.get(tagName);
  const peeled = refs.get(`${tagName}^{}`);
  const found = exact !== undefined ? { commit: exact } : tag === undefined ? undefined : peeled === undefined ? { commit: tag } : { commit: peeled, tagObject: tag };
  if (found === undefined || !COMMIT.test(found.commit)) throw new FileOpError(`repository does not contain ref ${ref}, output: ${JSON.stringify(out)}`);
  return found;
}

/** gitCommitTime is when a commit of a repository was committed (its committer time, seconds since 1970). */
export async function gitCommitTime(source: GitSource, commit: string, run: GitRun): Promise<number> {
  const tmp = await mkdtemp(join(tmpdir(), 'tbuild-git-'));
  try {
    const bare = join(tmp, 'repo.git');
    // Only the commits are needed: a server that cannot filter sends everything, which serves as well.
    await git(['clone', '--quiet', '--bare', '--filter=blob:none', source.remote, bare], run);
    return Number((await git(['show', '-s', '--format=%ct', commit], run, bare)).trim());
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** checkoutGit clones a repository at a commit and commits the tree (or its subdir) as a snapshot. */
export async function checkoutGit(source: GitSource, commit: string, snapshotter: Snapshotter, run: GitRun): Promise<string> {
  await using active = await snapshotter.prepare(null);
  await checkoutGitTo(source, commit, active.dir, run);
  return await active.commit(`git ${source.remote}#${commit}`);
}

/** updateSubmodules checks out the submodules shallow, or in full from a dumb HTTP server (which has no shallow fetch). */
async function updateSubmodules(work: string, run: GitRun): Promise<void> {
  const update = ['submodule', 'update', '--init', '--recursive'];
  const shallow = await git([...update, '--depth=1'], run, work).catch((err: unknown) => err);
  if (!(shallow instanceof Error)) return;
  if (!shallow.message.includes('does not support shallow')) throw shallow;
  await git(update, run, work);
}

/**
 * checkoutGitTo clones a repository at a commit and copies the tree (or its subdir) into an existing folder; it returns
 * the commit's committer time (seconds since 1970).
 */
export async function checkoutGitTo(source: GitSource, commit: string, dest: string, run: GitRun): Promise<number> {
  const tmp = await mkdtemp(join(tmpdir(), 'tbuild-git-'));
  try {
    const work = join(tmp, 'checkout');
    await git(['clone', '--quiet', '--no-checkout', source.remote, work], run);
    // Detached at the commit, as BuildKit leaves a kept .git (HEAD holds the commit id).
    await git(['-c', 'advice.detachedHead=false', 'checkout', '--quiet', '--detach', commit], run, work);
    if (source.submodules !== false) await updateSubmodules(work, run);
    const time = (await git(['log', '-1', '--format=%ct', commit], run, work)).trim();
    if (!source.keepGitDir) await rm(join(work, '.git'), { recursive: true, force: true });
    const from = posix.join(work, posix.normalize(`/${source.subdir}`));
    const st = await lstat(from).catch(() => undefined);
    if (st === undefined || !st.isDirectory()) throw new FileOpError(`Cannot use subdir "${source.subdir}" of ${source.remote}: not a directory`);
    if (source.mtime === 'commit') {
      // Every file, link and folder gets the commit's time; -depth stamps folders after what they hold.
      const touched = await exec('find', [from, '-depth', '-exec', 'touch', '-h', '-d', `@${time}`, '{}', '+'], { signal: run.signal }).catch((err: unknown) => err);
      if (touched instanceof Error) throw new FileOpError(`Cannot set the commit time on the checkout of ${source.remote}`, { cause: touched });
    }
    const cp = await exec('cp', ['-a', '--', `${from}/.`, dest], { signal: run.signal }).catch((err: unknown) => err);
    if (cp instanceof Error) throw new FileOpError(`Cannot copy the checkout of ${source.remote}`, { cause: cp });
    return Number(time);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
