import { computeCacheKey, computeOpDigest } from '../cache-key.js';
import type { Digest } from '../../base/digest.js';
import type { GitSource, HttpSource } from '../graph/index.js';
import type { JobContext } from '../types.js';
import type { OpDeps } from './deps.js';
import type { Download } from './http-source.js';

// The HTTP client and git code load only for builds that use such sources.
const gitSource = (): Promise<typeof import('./git-source.js')> => import('./git-source.js');
const httpSource = (): Promise<typeof import('./http-source.js')> => import('./http-source.js');

/** RemoteSources keys and fetches http and git sources; a download made for its key is kept for the run. */
export class RemoteSources implements AsyncDisposable {
  readonly #downloads = new Map<string, Promise<Download>>();
  readonly #commits = new Map<string, Promise<string>>();

  /** cacheKey resolves the source like BuildKit: http by the downloaded content, git by the commit. */
  async cacheKey(vertexDigest: string, source: HttpSource | GitSource, inputKeys: readonly Digest[], deps: OpDeps, job: JobContext): Promise<Digest> {
    switch (source.type) {
      case 'http': {
        const d = await this.#download(vertexDigest, source, job.signal);
        const fields = { digest: d.digest, filename: d.filename, mtime: d.mtime?.toISOString() ?? '' };
        const key = computeCacheKey(computeOpDigest('source.http', fields), inputKeys);
        const rec = deps.meta.cacheRecords.get(key);
        if (rec !== undefined && rec.snapshotId !== null && deps.snapshotter.exists(rec.snapshotId)) {
          // The result is cached: the download is not needed any more.
          this.#downloads.delete(vertexDigest);
          await d[Symbol.asyncDispose]();
        }
        return key;
      }
      case 'git': {
        const commit = await this.#commit(vertexDigest, source, job.signal);
        const fields = { remote: source.remote, commit, subdir: source.subdir, keepGitDir: source.keepGitDir };
        return computeCacheKey(computeOpDigest('source.git', fields), inputKeys);
      }
    }
  }

  /** run makes the source's snapshot. */
  async run(vertexDigest: string, source: HttpSource | GitSource, deps: OpDeps, job: JobContext): Promise<string> {
    switch (source.type) {
      case 'http': {
        const d = await this.#download(vertexDigest, source, job.signal);
        try {
          return await (await httpSource()).snapshotDownload(d, deps.snapshotter, `http ${source.url}`);
        } finally {
          this.#downloads.delete(vertexDigest);
          await d[Symbol.asyncDispose]();
        }
      }
      case 'git':
        return (await gitSource()).checkoutGit(source, await this.#commit(vertexDigest, source, job.signal), deps.snapshotter, job.signal);
    }
  }

  /** Removes downloads made for keys whose vertices never ran (a later step was cached). */
  async [Symbol.asyncDispose](): Promise<void> {
    const left = [...this.#downloads.values()];
    this.#downloads.clear();
    for (const settled of await Promise.allSettled(left)) if (settled.status === 'fulfilled') await settled.value[Symbol.asyncDispose]();
  }

  #download(key: string, source: HttpSource, signal: AbortSignal): Promise<Download> {
    let p = this.#downloads.get(key);
    if (p === undefined) {
      p = httpSource().then((m) => m.downloadHttp(source, signal));
      p.catch(() => this.#downloads.delete(key));
      this.#downloads.set(key, p);
    }
    return p;
  }

  #commit(key: string, source: GitSource, signal: AbortSignal): Promise<string> {
    let p = this.#commits.get(key);
    if (p === undefined) {
      p = gitSource().then((m) => m.resolveGitCommit(source, signal));
      p.catch(() => this.#commits.delete(key));
      this.#commits.set(key, p);
    }
    return p;
  }
}
