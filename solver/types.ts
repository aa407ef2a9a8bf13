import type { Digest } from '../base/digest.js';
import type { ProgressSink } from '../base/progress.js';
import type { Vertex } from './graph/index.js';

/** JobContext is what every op runner gets from the build it serves. */
export interface JobContext {
  readonly id: string;
  readonly signal: AbortSignal;
  readonly progress: ProgressSink;
}

/** OpRunner computes cache keys for, looks up and runs vertices; R is the result type. */
export interface OpRunner<R> {
  /** cacheKey digests the op, its pinned sources and its inputs' keys. */
  cacheKey(vertex: Vertex, inputKeys: readonly Digest[], job: JobContext): Promise<Digest>;
  /** lookup returns a cached result for a key, or undefined (ops that read the client never hit). */
  lookup(vertex: Vertex, key: Digest, job: JobContext): Promise<R | undefined>;
  /** run carries out the op on resolved inputs and records its result under the key. */
  run(vertex: Vertex, key: Digest, inputs: readonly R[], job: JobContext): Promise<R>;
  /**
   * load readies a result before a vertex that runs uses it as an input (a cache hit that was found but not fetched
   * is fetched now). undefined means the cached result cannot be used: the solver runs its vertex instead.
   * Without it, results are used as lookup and run return them.
   */
  load?(vertex: Vertex, result: R, job: JobContext): Promise<R | undefined>;
  /**
   * contentDigest digests the files a result holds, so that a vertex run again despite its cache record
   * (ignoreCache) can tell whether it made the same files. Equal digests mean equal files.
   */
  contentDigest(vertex: Vertex, result: R, job: JobContext): Promise<Digest>;
  /**
   * selectedContentDigest digests the files a vertex reads of one input when only those matter (a COPY's sources, a
   * read-only mount), for a second lookup by content after the key missed, as BuildKit's "slow" cache key does.
   * Undefined when the vertex depends on that input otherwise, or when `result` (called only when needed) gives
   * undefined: the input's files are not here (a record imported and not fetched), and are not fetched for this.
   */
  selectedContentDigest(vertex: Vertex, index: number, result: () => Promise<R | undefined>, job: JobContext): Promise<Digest | undefined>;
  /** link records an existing result under one more cache key. */
  link(vertex: Vertex, key: Digest, result: R, job: JobContext): Promise<void>;
}
