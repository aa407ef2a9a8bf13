import type { Digest } from '../base/digest.js';
import { asDiskFull, CancelledError, SolveError, TbuildError } from '../base/errors.js';
import type { CacheKeyStorage } from './cache-key-storage.js';
import { walkVertices, type Vertex } from './graph/index.js';
import { SharedCalls } from './shared-call.js';
import { SolveKeys } from './solve-keys.js';
import type { JobContext, OpRunner } from './types.js';

/** SolveOutcome is the result of a solve plus how each vertex went. */
export interface SolveOutcome<R> {
  readonly result: R;
  readonly key: Digest;
  /** Every vertex this solve keyed, by vertex digest, with its result when the solve needed one. */
  readonly vertices: ReadonlyMap<Digest, SolvedVertex<R>>;
}

/** SolvedVertex is one vertex of a solve: its cache key and, if computed (run or cache hit), its result. */
export interface SolvedVertex<R> {
  readonly vertex: Vertex;
  readonly key: Digest;
  /** Its key by the files it read of its inputs, when it missed its key and has one: the result stands under both. */
  readonly contentKey?: Digest;
  readonly result?: R;
}

/** Solver evaluates a graph: keys first, then only the vertices whose results are not cached. */
export interface Solver<R> {
  solve(root: Vertex, job: JobContext, options?: SolveOptions): Promise<SolveOutcome<R>>;
}

/** SolveOptions say what the caller needs of the root's result. */
export interface SolveOptions {
  /** Load the root's result as an input would be (OpRunner.load): its files are needed, not just its cache record. */
  readonly load?: boolean;
  /** Told the key each vertex is looked up under, as soon as it is known (also in a solve that fails later). */
  readonly keyed?: (vertex: Vertex, key: Digest) => void;
}

/** SolverOptions tune a solver. */
export interface SolverOptions<R> {
  /** Where keys link to results and keep their preimages (the runner records and looks up results in it too). */
  readonly storage: CacheKeyStorage;
  /** Calls shared with other solves in this process, so concurrent builds run an identical vertex once. */
  readonly shared?: SharedCalls<R>;
}

/** createSolver returns a solver that keys vertices and runs those not cached through `runner`. */
export function createSolver<R>(runner: OpRunner<R>, options: SolverOptions<R>): Solver<R> {
  const shared = options.shared ?? new SharedCalls<R>();
  return {
    solve: (root, job, o = {}) => new SolveRun(runner, job, { storage: options.storage, shared, ...(o.keyed === undefined ? {} : { keyed: o.keyed }) }).solve(root, o.load === true),
  };
}

/** SolveRun is one solve: it shares work by vertex digest and fails as a group. */
class SolveRun<R> {
  readonly #runner: OpRunner<R>;
  readonly #storage: CacheKeyStorage;
  readonly #job: JobContext;
  readonly #abort = new AbortController();
  readonly #keys: SolveKeys<R>;
  readonly #results = new Map<Digest, Promise<R>>();
  /** Results readied as inputs of vertices that run (see OpRunner.load). */
  readonly #loaded = new Map<Digest, Promise<R>>();
  readonly #inFlight = new Set<Promise<unknown>>();
  readonly #reported = new Set<Digest>();
  readonly #shared: SharedCalls<R>;
  readonly #keyed: ((vertex: Vertex, key: Digest) => void) | undefined;

  constructor(runner: OpRunner<R>, job: JobContext, options: { storage: CacheKeyStorage; shared: SharedCalls<R>; keyed?: (vertex: Vertex, key: Digest) => void }) {
    this.#runner = runner;
    this.#keyed = options.keyed;
    this.#storage = options.storage;
    this.#shared = options.shared;
    const signal = AbortSignal.any([job.signal, this.#abort.signal]);
    this.#job = { ...job, signal };
    this.#keys = new SolveKeys({
      runner,
      job: this.#job,
      storage: options.storage,
      result: (v) => this.#result(v),
      wrap: (v, fn) => this.#wrap(v, fn),
      track: (p) => this.#track(p),
    });
  }

  async solve(root: Vertex, load: boolean): Promise<SolveOutcome<R>> {
    // As BuildKit's solver reports each vertex when it loads the graph: the views know how many there are from the start.
    const planned = Date.now();
    for (const v of walkVertices([root])) this.#job.progress.emit({ type: 'vertex.planned', vertex: v.digest, name: v.metadata.name, time: planned });
    try {
      const key = await this.#keys.key(root);
      const result = load ? await this.#input(root) : await this.#result(root);
      return { result, key, vertices: await this.#solved() };
    } catch (err) {
      if (!this.#abort.signal.aborted) this.#abort.abort(err);
      await Promise.allSettled([...this.#inFlight]);
      // Report the failure that stopped the build, not the cancellations it caused.
      throw this.#abort.signal.reason ?? err;
    }
  }

  /** Collects the key and result of every vertex this solve touched (all have settled once the root has). */
  async #solved(): Promise<Map<Digest, SolvedVertex<R>>> {
    const out = new Map<Digest, SolvedVertex<R>>();
    for (const keys of await this.#keys.solved()) {
      // A result that was loaded (or made again because its cached form was unusable) is the one in use.
      const pending = this.#loaded.get(keys.vertex.digest) ?? this.#results.get(keys.vertex.digest);
      out.set(keys.vertex.digest, pending === undefined ? keys : { ...keys, result: await pending });
    }
    return out;
  }

  #track<T>(p: Promise<T>): Promise<T> {
    this.#inFlight.add(p);
    p.then(
      () => this.#inFlight.delete(p),
      (err: unknown) => {
        this.#inFlight.delete(p);
        // The first failure stops the build: cancel everything still running.
        if (!this.#abort.signal.aborted) this.#abort.abort(err);
      },
    );
    return p;
  }

  #result(v: Vertex): Promise<R> {
    let p = this.#results.get(v.digest);
    if (p === undefined) {
      p = this.#track(this.#compute(v));
      this.#results.set(v.digest, p);
    }
    return p;
  }

  async #compute(v: Vertex): Promise<R> {
    const key = await this.#keys.lookupKey(v);
    this.#keyed?.(v, key);
    if (v.metadata.ignoreCache === true) return this.#rerun(v, key);
    const cached = await this.#wrap(v, () => this.#runner.lookup(v, key, this.#job));
    if (cached !== undefined) {
      this.#reportCached(v);
      return cached;
    }
    // The key missed: a vertex that reads only some files of an input may find a result made from the same files.
    const byContent = await this.#keys.contentKey(v, key);
    if (byContent !== undefined) {
      const hit = await this.#wrap(v, () => this.#runner.lookup(v, byContent, this.#job));
      if (hit !== undefined) {
        // The key it missed becomes another link to the record, so the next build hits it directly (a record found in
        // an imported cache and not fetched is linked once a build has it here).
        await this.#wrap(v, () => this.#storage.link(key, byContent));
        this.#reportCached(v);
        return hit;
      }
    }
    const result = await this.#execute(v, key);
    if (byContent !== undefined) await this.#wrap(v, () => this.#storage.link(byContent, key));
    return result;
  }

  /**
   * Runs a vertex that ignores the cache. Its dependents keep seeing its key when it made the same files as the
   * record it replaces, and a key derived from the new files otherwise, so they run again only when it changed.
   */
  async #rerun(v: Vertex, key: Digest): Promise<R> {
    const before = await this.#wrap(v, () => this.#runner.lookup(v, key, this.#job));
    const was = before === undefined ? undefined : await this.#wrap(v, () => this.#runner.contentDigest(v, before, this.#job));
    const result = await this.#execute(v, key);
    const now = await this.#wrap(v, () => this.#runner.contentDigest(v, result, this.#job));
    if (now !== was) this.#keys.rerunMade(v, now);
    return result;
  }

  /** The result of an input readied for a vertex that runs: loaded by the runner, or made again when unusable. */
  #input(u: Vertex): Promise<R> {
    if (this.#runner.load === undefined) return this.#result(u);
    let p = this.#loaded.get(u.digest);
    if (p === undefined) {
      p = this.#track(this.#load(u));
      this.#loaded.set(u.digest, p);
    }
    return p;
  }

  async #load(u: Vertex): Promise<R> {
    const result = await this.#result(u);
    const ready = await this.#wrap(u, async () => this.#runner.load?.(u, result, this.#job));
    if (ready !== undefined) return ready;
    // The cache hit cannot be fetched (a corrupt or vanished imported blob): run the vertex after all.
    return this.#execute(u, await this.#keys.lookupKey(u));
  }

  /** Runs a vertex on its readied inputs and reports it. */
  async #execute(v: Vertex, key: Digest): Promise<R> {
    const inputs = await Promise.all(v.inputs.map((e) => this.#input(e.vertex)));
    this.#job.signal.throwIfAborted();
    const started = Date.now();
    this.#job.progress.emit({ type: 'vertex.started', vertex: v.digest, name: v.metadata.name, time: started });
    try {
      const result = await this.#runShared(v, key, inputs);
      // Below a vertex run again, the result also stands under the key a later build with the usual records asks for.
      const usual = await this.#keys.key(v);
      if (usual !== key) await this.#wrap(v, () => this.#storage.link(usual, key));
      this.#job.progress.emit({ type: 'vertex.completed', vertex: v.digest, name: v.metadata.name, time: Date.now(), durationMs: Date.now() - started });
      return result;
    } catch (err) {
      // A vertex the interrupt stopped reads CANCELED, as in BuildKit, also when its error only wraps the abort reason, or
      // is the reason itself (another platform's failure that cancelled this build).
      const reason: unknown = this.#job.signal.reason;
      const cancelled = this.#job.signal.aborted && (err === reason || !(err instanceof SolveError) || err.cause === reason);
      this.#job.progress.emit({
        type: 'vertex.completed',
        vertex: v.digest,
        name: v.metadata.name,
        time: Date.now(),
        durationMs: Date.now() - started,
        error: cancelled ? 'cancelled' : errorMessage(err),
      });
      throw err;
    }
  }

  /** Runs the vertex, or waits for the same key running in another build of this process and reports it cached. */
  async #runShared(v: Vertex, key: Digest, inputs: readonly R[]): Promise<R> {
    // The step runs under the shared call's signal: it stops only when every build waiting for it was interrupted.
    const call = this.#shared.run(key, (signal) => this.#wrap(v, () => this.#runner.run(v, key, inputs, { ...this.#job, signal })), this.#job.signal);
    if (!call.joined) return call.promise;
    try {
      const result = await call.promise;
      this.#job.progress.emit({ type: 'vertex.cached', vertex: v.digest, name: v.metadata.name, time: Date.now() });
      return result;
    } catch (err) {
      // The other build was cancelled or failed: this one runs the vertex itself.
      this.#job.signal.throwIfAborted();
      return this.#wrap(v, () => this.#runner.run(v, key, inputs, this.#job));
    }
  }

  /** Reports a cache hit for a vertex and every vertex below it that this solve has not reported yet. */
  #reportCached(v: Vertex): void {
    for (const u of walkVertices([v])) {
      if (this.#reported.has(u.digest) || (u !== v && this.#results.has(u.digest))) continue;
      this.#reported.add(u.digest);
      this.#job.progress.emit({ type: 'vertex.cached', vertex: u.digest, name: u.metadata.name, time: Date.now() });
    }
  }

  /** Adds the vertex's name and Dockerfile location to any failure of its op. */
  async #wrap<T>(v: Vertex, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof SolveError || err instanceof CancelledError) throw err;
      if (this.#job.signal.aborted && !(err instanceof TbuildError)) throw new CancelledError('Build cancelled', { cause: err });
      // A write that found the disk full says so, and where, rather than passing on the bare system error.
      const cause = asDiskFull(err);
      throw new SolveError(`${v.metadata.name}: ${errorMessage(cause)}`, {
        vertexName: v.metadata.name,
        vertexDigest: v.digest,
        location: v.metadata.location,
        cause,
      });
    }
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
