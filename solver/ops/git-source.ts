import { execFile } from 'node:child_process';
import { mkdtemp, rm, lstat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { promisify } from 'node:util';
import { FileOpError } from '../../base/errors.js';
import type { Snapshotter } from '../../cache/snapshotter.js';
import type { GitSource } from '../graph/index.js';

const exec = promisify(execFile);
/** gitEnv is read at each call, not at import: a resident tbuild process runs each build with its client's environment. */
function gitEnv(): NodeJS.ProcessEnv {
  return { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', LC_ALL: 'C' };
}
const FULL_SHA = /^[0-9a-f]{40}$/;

async function git(args: readonly string[], signal: AbortSignal, cwd?: string): Promise<string> {
  try {
    const { stdout } = await exec('git', [...args], { cwd, env: gitEnv(), signal, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    if (signal.aborted) throw err;
    const stderr = typeof err === 'object' && err !== null && 'stderr' in err ? String(err.stderr).trim() : '';
    throw new FileOpError(`Cannot run "git ${args.join(' ')}": ${stderr}`, { cause: err });
  }
}

/** resolveGitCommit pins a git source's ref (or the remote HEAD) to a commit id. */
export async function resolveGitCommit(source: GitSource, signal: AbortSignal): Promise<string> {
  const commit = await resolveRef(source, signal);
  if (source.checksum !== undefined && !commit.startsWith(source.checksum.toLowerCase())) {
    throw new FileOpError(`Cannot use git source ${source.remote}: it resolved to commit ${commit}, not --checksum=${source.checksum}`);
  }
  return commit;
}

async function resolveRef(source: GitSource, signal: AbortSignal): Promise<string> {
  if (FULL_SHA.test(source.ref)) return source.ref;
  const ref = source.ref === '' ? 'HEAD' : source.ref;
  const out = await git(['ls-remote', source.remote, ref, `${ref}^{}`], signal);
  const lines = out.split('\n').filter((l) => l.length > 0).map((l) => l.split('\t'));
  const wanted = (name: string): boolean => name === ref || name.endsWith(`/${ref}`);
  const peeled = lines.find(([, name]) => name !== undefined && name.endsWith('^{}') && wanted(name.slice(0, -3)));
  const direct = lines.find(([, name]) => name !== undefined && wanted(name));
  const commit = (peeled ?? direct)?.[0];
  if (commit === undefined || !FULL_SHA.test(commit)) throw new FileOpError(`Cannot find ref "${ref}" in git repository ${source.remote}`);
  return commit;
}

/** checkoutGit clones a repository at a commit and commits the tree (or its subdir) as a snapshot. */
export async function checkoutGit(source: GitSource, commit: string, snapshotter: Snapshotter, signal: AbortSignal): Promise<string> {
  await using active = await snapshotter.prepare(null);
  await checkoutGitTo(source, commit, active.dir, signal);
  return await active.commit(`git ${source.remote}#${commit}`);
}

/** checkoutGitTo clones a repository at a commit and copies the tree (or its subdir) into an existing folder. */
export async function checkoutGitTo(source: GitSource, commit: string, dest: string, signal: AbortSignal): Promise<void> {
  const tmp = await mkdtemp(join(tmpdir(), 'tbuild-git-'));
  try {
    const work = join(tmp, 'checkout');
    await git(['clone', '--quiet', '--no-checkout', source.remote, work], signal);
    const branch = source.ref === '' || FULL_SHA.test(source.ref) ? [] : ['-B', source.ref];
    await git(['-c', 'advice.detachedHead=false', 'checkout', '--quiet', ...(branch.length > 0 ? branch : ['--detach']), commit], signal, work);
    await git(['submodule', 'update', '--init', '--recursive', '--depth=1'], signal, work).catch(() => '');
    if (!source.keepGitDir) await rm(join(work, '.git'), { recursive: true, force: true });
    const from = posix.join(work, posix.normalize(`/${source.subdir}`));
    const st = await lstat(from).catch(() => undefined);
    if (st === undefined || !st.isDirectory()) throw new FileOpError(`Cannot use subdir "${source.subdir}" of ${source.remote}: not a directory`);
    const cp = await promisify(execFile)('cp', ['-a', '--', `${from}/.`, dest], { signal }).catch((err: unknown) => err);
    if (cp instanceof Error) throw new FileOpError(`Cannot copy the checkout of ${source.remote}`, { cause: cp });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
