import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { basename, join, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { UsageError } from '../base/errors.js';
import { parseGitRef } from '../frontend/index.js';
import { extractArchive, isTarArchive, loadGitSource, loadHttpSource, newestFileTime } from '../solver/ops/index.js';
import { readContextIgnore, readDockerfile } from './context.js';
import type { ContextOrigin, ContextSource, DockerfileBytes, DockerfileSource } from './request.js';

/** OpenedContext is a build's context folder and its Dockerfile; disposing it removes what was fetched for it. */
export interface OpenedContext extends AsyncDisposable {
  readonly dir: string;
  readonly dockerfile: DockerfileBytes;
  /**
   * When a context fetched from a URL was last changed (seconds since 1970), when it tells: its commit's time, its
   * Last-Modified header or its newest file. `SOURCE_DATE_EPOCH=context` dates the build by it.
   */
  readonly sourceDate?: number;
  /** The URL a fetched context came from and what it resolved to (a commit, a download's digest). */
  readonly origin?: ContextOrigin;
}

/** ContextFetch is what fetching a context needs: a folder for what is fetched, and the caller's environment for git. */
export interface ContextFetch {
  /** Folder for temporary files (the store's). */
  readonly tmp: string;
  readonly signal: AbortSignal;
  readonly processEnv: Readonly<Record<string, string>>;
}

/** FetchedFiles is where a context that came whole was put: its folder and its Dockerfile, its date and origin when known. */
interface FetchedFiles {
  readonly contextDir: string;
  readonly dockerfile: string;
  readonly sourceDate?: number;
  readonly origin?: ContextOrigin;
}

/**
 * openContext makes a context source a folder: a folder is used as it is; an archive stream or a URL is fetched into a
 * temporary folder, with the Dockerfile read from inside it; a receiver brings its copy up to date; none is empty.
 */
export async function openContext(source: ContextSource, dockerfile: DockerfileSource, o: ContextFetch): Promise<OpenedContext> {
  switch (source.kind) {
    case 'folder':
      return { dir: source.dir, dockerfile: await dockerfileIn(source.dir, dockerfile), [Symbol.asyncDispose]: async () => undefined };
    case 'receiver': {
      const received = await source.receive({ signal: o.signal });
      try {
        const date = received.sourceDate === undefined ? {} : { sourceDate: received.sourceDate };
        const origin = received.origin === undefined ? {} : { origin: received.origin };
        return { dir: received.dir, dockerfile: await dockerfileIn(received.dir, dockerfile), ...date, ...origin, [Symbol.asyncDispose]: () => received[Symbol.asyncDispose]() };
      } catch (err) {
        await received[Symbol.asyncDispose]();
        throw err;
      }
    }
    case 'archive':
    case 'url':
    case 'none':
      return fetchContext(source, dockerfile, o);
  }
}

/** fetchContext puts a context that is not a folder into a temporary one, removed when the result is disposed. */
async function fetchContext(source: Exclude<ContextSource, { kind: 'folder' | 'receiver' }>, dockerfile: DockerfileSource, o: ContextFetch): Promise<OpenedContext> {
  const dir = await mkdtemp(join(o.tmp, 'context-'));
  const dispose = (): Promise<void> => rm(dir, { recursive: true, force: true });
  try {
    const inContext = 'bytes' in dockerfile ? null : dockerfile.inContext;
    let fetched: FetchedFiles;
    if (source.kind === 'none') {
      if (!('bytes' in dockerfile)) throw new UsageError('Cannot build without a context from a Dockerfile inside it: give the Dockerfile as bytes');
      fetched = { contextDir: join(dir, 'context'), dockerfile: '' };
      await mkdir(fetched.contextDir);
    } else if (source.kind === 'url') {
      fetched = await fetchRemoteContext(source.url, dir, inContext, o);
    } else {
      const saved = join(dir, 'stdin');
      await pipeline(source.stream, createWriteStream(saved), { signal: o.signal });
      fetched = await prepareFetchedContext(saved, dir, inContext, o.signal);
    }
    const opened = 'bytes' in dockerfile ? dockerfile : await readFetchedDockerfile(fetched);
    const date = fetched.sourceDate === undefined ? {} : { sourceDate: fetched.sourceDate };
    const origin = fetched.origin === undefined ? {} : { origin: fetched.origin };
    return { dir: fetched.contextDir, dockerfile: opened, ...date, ...origin, [Symbol.asyncDispose]: dispose };
  } catch (err) {
    await dispose();
    throw err;
  }
}

/** dockerfileIn is the Dockerfile of a context folder: the bytes given, or the file named inside the folder. */
async function dockerfileIn(dir: string, dockerfile: DockerfileSource): Promise<DockerfileBytes> {
  if ('bytes' in dockerfile) return dockerfile;
  return readFetchedDockerfile({ contextDir: dir, dockerfile: dockerfileInside(dir, dockerfile.inContext) });
}

/** readFetchedDockerfile reads the Dockerfile of a fetched context, with the ignore text a build of it applies. */
async function readFetchedDockerfile(fetched: FetchedFiles): Promise<DockerfileBytes> {
  const bytes = await readDockerfile(fetched.dockerfile);
  const ignore = await readContextIgnore(fetched.contextDir, fetched.dockerfile);
  return { name: basename(fetched.dockerfile), bytes, ignore: ignore ?? '' };
}

/**
 * fetchRemoteContext fetches a context given as a URL into `dir`, as docker build does: a git repository
 * (`https://…/repo.git#ref:subdir`, `git@host:repo.git`, `git://…`, `github.com/…`) is checked out at the ref, the
 * subdir becoming the context; any other http(s) URL is downloaded and read like a context on standard input (a tar
 * archive, or else a Dockerfile with an empty context). `-f` names a file inside the context (ignored for a plain
 * Dockerfile, as BuildKit does).
 */
async function fetchRemoteContext(url: string, dir: string, dockerfileArg: string | null, o: ContextFetch): Promise<FetchedFiles> {
  const git = parseGitRef(url);
  if (git !== undefined) {
    // Loaded only for URL contexts: a build from a folder never loads the git or HTTP code.
    const { checkoutGitTo, resolveGitCommit } = await loadGitSource();
    const source = { type: 'git' as const, ...git, keepGitDir: git.keepGitDir ?? false };
    const run = { signal: o.signal, env: o.processEnv };
    const commit = await resolveGitCommit(source, run);
    const contextDir = join(dir, 'context');
    await mkdir(contextDir);
    const committed = await checkoutGitTo(source, commit, contextDir, run);
    return { contextDir, dockerfile: dockerfileInside(contextDir, dockerfileArg), sourceDate: committed, origin: { type: 'git', url, commit } };
  }
  if (!/^https?:\/\//i.test(url)) throw new UsageError(`Cannot use context "${url}": expected a folder, -, a git repository or an http(s) URL`);
  const { downloadHttp } = await loadHttpSource();
  await using download = await downloadHttp({ type: 'http', url, filename: '' }, o.signal);
  const saved = join(dir, 'download');
  await copyFile(download.file, saved);
  // A plain Dockerfile at a URL is the Dockerfile whatever -f names, as BuildKit reads it.
  const name = (await isTarArchive(saved, o.signal)) ? dockerfileArg : null;
  // The download is dated by its Last-Modified header, else by its newest file when it is an archive.
  const date = download.mtime === undefined ? await newestFileTime(saved, o.signal) : Math.floor(download.mtime.getTime() / 1000);
  // Awaited here: a failure must not settle while the download is being removed, with no one listening yet.
  const fetched = { ...(await prepareFetchedContext(saved, dir, name, o.signal)), origin: { type: 'http' as const, url, digest: download.digest } };
  return date === undefined ? fetched : { ...fetched, sourceDate: date };
}

/**
 * prepareFetchedContext turns a context that came as one file (what `tbuild build -` read from standard input, or an
 * http(s) download), saved as `file` inside `dir`, into a context folder, as docker does: a tar archive (plain, gzip,
 * bzip2, xz or zstd) becomes the context, with the Dockerfile at `dockerfileArg` inside it (default `Dockerfile`);
 * anything else is the Dockerfile, with an empty context.
 */
async function prepareFetchedContext(file: string, dir: string, dockerfileArg: string | null, signal: AbortSignal): Promise<FetchedFiles> {
  const contextDir = join(dir, 'context');
  await mkdir(contextDir);
  if (await isTarArchive(file, signal)) {
    await extractArchive(file, contextDir, signal);
    return { contextDir, dockerfile: dockerfileInside(contextDir, dockerfileArg) };
  }
  if (dockerfileArg !== null) {
    throw new UsageError('Cannot use -f with a Dockerfile read from standard input', { hint: 'pipe a tar archive of the context to use -f inside it' });
  }
  const dockerfile = join(dir, 'Dockerfile');
  await rename(file, dockerfile);
  return { contextDir, dockerfile };
}

/** dockerfileInside is where `-f` points inside a context that was fetched or unpacked (default `Dockerfile`). */
function dockerfileInside(contextDir: string, dockerfileArg: string | null): string {
  const dockerfile = resolve(contextDir, dockerfileArg ?? 'Dockerfile');
  const rel = relative(contextDir, dockerfile);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`)) {
    throw new UsageError(`Cannot use -f ${dockerfileArg ?? ''}: with a context from standard input or a URL, -f names a file inside it`);
  }
  return dockerfile;
}
