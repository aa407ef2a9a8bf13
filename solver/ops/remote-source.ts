import type { GitSource, HttpSource, Vertex } from '../graph/index.js';
import { computeVertexKey, type GitPin, type HttpPin, type JobContext } from '../index.js';
import type { OpDeps } from './deps.js';
import { storedSnapshot } from './stored-snapshot.js';
import type { GitRun } from './git-source.js';
import type { Download, HttpSeen } from './http-source.js';

// The HTTP client and git code load only for builds that use such sources.
/** loadGitSource loads the git fetcher on first use. */
export const loadGitSource = (): Promise<typeof import('./git-source.js')> => import('./git-source.js');
/** loadHttpSource loads the HTTP fetcher (and its HTTP client) on first use. */
export const loadHttpSource = (): Promise<typeof import('./http-source.js')> => import('./http-source.js');

/** Earlier downloads of one URL remembered for revalidation. */
const MAX_SEEN = 8;

/** RemoteSources pins and fetches http and git sources; a download made to pin one is kept for the run. */
export class RemoteSources implements AsyncDisposable {
  readonly #downloads = new Map<string, Promise<Download | HttpSeen>>();
  readonly #commits = new Map<string, Promise<string>>();

  /** pin resolves the source like BuildKit: http by the downloaded content, git by the commit. */
  async pin(vertex: Vertex, source: HttpSource | GitSource, deps: OpDeps, job: JobContext): Promise<HttpPin | GitPin> {
    switch (source.type) {
      case 'http':
        return this.#httpPin(vertex, source, deps, job.signal);
      case 'git':
        return { type: 'git', commit: await this.#commit(vertex.digest, source, { signal: job.signal, env: deps.processEnv ?? {} }) };
    }
  }

  /** run makes the source's snapshot. */
  async run(vertexDigest: string, source: HttpSource | GitSource, deps: OpDeps, job: JobContext): Promise<string> {
    switch (source.type) {
      case 'http': {
        let d = await this.#download(vertexDigest, source, job.signal);
        if (!('file' in d)) {
          // Keyed from an earlier download whose result has gone since: fetch the file afresh.
          this.#downloads.delete(vertexDigest);
          d = await (await loadHttpSource()).downloadHttp(source, job.signal);
        }
        try {
          return await (await loadHttpSource()).snapshotDownload(d, deps.snapshotter, `http ${source.url}`);
        } finally {
          this.#downloads.delete(vertexDigest);
          await d[Symbol.asyncDispose]();
        }
      }
      case 'git': {
        const run = { signal: job.signal, env: deps.processEnv ?? {} };
        return (await loadGitSource()).checkoutGit(source, await this.#commit(vertexDigest, source, run), deps.snapshotter, run);
      }
    }
  }

  /** Removes downloads made for keys whose vertices never ran (a later step was cached). */
  async [Symbol.asyncDispose](): Promise<void> {
    const left = [...this.#downloads.values()];
    this.#downloads.clear();
    for (const settled of await Promise.allSettled(left)) if (settled.status === 'fulfilled' && 'file' in settled.value) await settled.value[Symbol.asyncDispose]();
  }

  /**
   * Pins an http source like BuildKit: by --checksum without asking the server; else by what the URL serves, found
   * without downloading when the server answers a HEAD, or a GET with If-None-Match, with the ETag of an earlier
   * download whose result is still cached.
   */
  async #httpPin(vertex: Vertex, source: HttpSource, deps: OpDeps, signal: AbortSignal): Promise<HttpPin> {
    const pinOf = (s: Omit<HttpSeen, 'etag'>): HttpPin => ({ type: 'http', digest: s.digest, filename: s.filename, mtime: s.mtime });
    const cached = (p: HttpPin): boolean => storedSnapshot(computeVertexKey(vertex.op, { pin: p, inputs: [] }).key, deps) !== undefined;
    if (source.checksum !== undefined && source.filename !== '') return pinOf({ digest: source.checksum, filename: source.filename, mtime: '' });
    const earlier = deps.meta.httpSources.get(source.url)?.seen ?? [];
    const usable = earlier.filter((s) => cached(pinOf(s)));
    const http = await loadHttpSource();
    if (usable.length > 0) {
      const same = await http.revalidateHttp(source, usable, signal);
      if (same !== undefined) return pinOf(same);
    }
    const d = await this.#download(vertex.digest, source, signal, usable);
    if (!('file' in d)) return pinOf(d);
    const seen = { digest: d.digest, filename: d.filename, mtime: d.mtime?.toISOString() ?? '' };
    if (d.etag !== undefined) {
      const kept = earlier.filter((s) => s.etag !== d.etag).slice(0, MAX_SEEN - 1);
      await deps.meta.httpSources.put(source.url, { seen: [{ etag: d.etag, ...seen }, ...kept] });
    }
    if (cached(pinOf(seen))) {
      // The result is cached: the download is not needed any more.
      this.#downloads.delete(vertex.digest);
      await d[Symbol.asyncDispose]();
    }
    return pinOf(seen);
  }

  #download(key: string, source: HttpSource, signal: AbortSignal, seen: readonly HttpSeen[] = []): Promise<Download | HttpSeen> {
    let p = this.#downloads.get(key);
    if (p === undefined) {
      p = loadHttpSource().then((m) => m.downloadHttpUnlessSeen(source, signal, seen));
      p.catch(() => this.#downloads.delete(key));
      this.#downloads.set(key, p);
    }
    return p;
  }

  #commit(key: string, source: GitSource, run: GitRun): Promise<string> {
    let p = this.#commits.get(key);
    if (p === undefined) {
      p = loadGitSource().then((m) => m.resolveGitCommit(source, run));
      p.catch(() => this.#commits.delete(key));
      this.#commits.set(key, p);
    }
    return p;
  }
}
