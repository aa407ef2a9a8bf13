import type { Digest } from '../base/digest.js';
import type { ProgressSink } from '../base/progress.js';
import type { SourcePin } from './cache-fields.js';
import type { Vertex } from './graph/index.js';

/** JobContext is what every op runner gets from the build it serves. */
export interface JobContext {
  readonly id: string;
  readonly signal: AbortSignal;
  readonly progress: ProgressSink;
}

/** OpRunner pins sources for their keys, looks up and runs vertices; R is the result type. Keys are the solver's. */
export interface OpRunner<R> {
  /**
   * pin resolves what a source op's result depends on besides its definition (a tag's manifest, a ref's commit, the
   * checksum of the files read), for its key. The solver calls it for source ops only, once a solve.
   */
  pin(vertex: Vertex, job: JobContext): Promise<SourcePin>;
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
   * selectedContentDigest digests the paths a vertex reads of one input (the selector contentSelectors chose), for a second lookup by content after the key missed, as BuildKit's "slow" cache key does. Undefined when
   * `result` (called only when needed) gives undefined, or a result whose files are not here (a record imported and
   * not fetched, which is not fetched for this) or are keyed by their files already (the client's folders).
   */
  selectedContentDigest(vertex: Vertex, input: SelectedInput<R>, job: JobContext): Promise<Digest | undefined>;
}

/** SelectedInput is an input a vertex reads only some paths of. */
export interface SelectedInput<R> {
  readonly index: number;
  /** The paths read, absolute in the input's tree (patterns allowed, as COPY takes them). */
  readonly selector: readonly string[];
  /** The input's result, made or found only when called. */
  readonly result: () => Promise<R | undefined>;
}
