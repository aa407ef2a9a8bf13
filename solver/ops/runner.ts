import type { Digest } from '../../base/digest.js';
import { assertNever, InternalError, SnapshotError, SolveError, SymlinkLoopError } from '../../base/errors.js';
import { TRANSFER_REPORT_MS } from '../../base/transfer-meter.js';
import { testPause } from '../../base/test-pause.js';
import type { JobContext, OpRunner, SourcePin } from '../index.js';
import type { ExecOp, LocalSource, Vertex } from '../graph/index.js';
import { checksumWithWatch } from './context-reuse.js';
import { SourceNotFoundError } from './copy-match.js';
import { ContextMemo } from './context-memo.js';
import type { OpDeps } from './deps.js';
import { excludeMatcherOf } from './exclude.js';
import { execNetwork, runExec } from './exec.js';
import { runFileOp } from './file.js';
import { runMerge } from './merge.js';
import { RemoteSources } from './remote-source.js';
import { findPulledImage, pullImage } from './image-source.js';
import type { LocalContext, Ref } from './ref.js';
import { digestResultFiles } from './result-digest.js';
import { SelectedDigests } from './selected-content.js';

/** createOpRunner returns the runner for every op kind of the graph. */
export function createOpRunner(deps: OpDeps): OpRunner<Ref> & AsyncDisposable {
  const remote = new RemoteSources();
  // One memo for the build: a COPY lists the context from what its checksum read moments before.
  const memo = new ContextMemo(deps.meta, Date.now());
  // Digests of committed layers, for the steps that ignore the cache (see OpRunner.contentDigest).
  const layers = new Map<string, Promise<Digest>>();
  // Digests of the paths steps read of other steps' results, for their content keys (see selectedContentDigest).
  const selected = new SelectedDigests(deps);
  // Results and cache hits are written without holding up the steps after them; the solve's end waits for every write.
  const records = new RecordWrites(deps);
  const expected = new ExpectedRuns(deps);
  return {
    [Symbol.asyncDispose]: async () => {
      await remote[Symbol.asyncDispose]();
      await records.settled();
    },
    pin: async (vertex, job) => {
      const pinned = await asCacheKeyFailure(vertex, pin(vertex, { deps, job, remote, memo, records }));
      deps.sourcePinned?.(vertex.digest, pinned);
      return pinned;
    },
    lookup: (vertex, key, job) => lookup(vertex, key, { deps, records, expected }, job.signal),
    run: (vertex, key, inputs, job) => asCacheKeyFailure(vertex, run(vertex, key, inputs, { deps, job, remote, memo, records })),
    contentDigest: (_vertex, result, job) => digestResultFiles(result, deps, { signal: job.signal, memo, layers }),
    selectedContentDigest: async (_vertex, input, job) => {
      const ref = await input.result();
      // The build's own folders are keyed by their files already.
      return ref?.kind === 'snapshot' ? selected.snapshot(ref.snapshotId, input.selector, job.signal) : undefined;
    },
  };
}

/**
 * asCacheKeyFailure words a COPY source its input does not hold (or reaches through a symlink loop) as BuildKit does, whichever step finds it here (the
 * context checksum, or the copy itself for another step's files): BuildKit finds it computing the copy's
 * content-based cache key (solver/edge.go), and buildx prints that under `failed to solve:`.
 */
async function asCacheKeyFailure<T>(vertex: Vertex, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (!(err instanceof SourceNotFoundError) && !(err instanceof SymlinkLoopError)) throw err;
    throw new SolveError(`failed to solve: failed to compute cache key: ${err.message}`, {
      vertexName: vertex.metadata.name,
      vertexDigest: vertex.digest,
      location: vertex.metadata.location,
      cause: err,
    });
  }
}

/** RunnerContext is what the runner's calls share within one build. */
interface RunnerContext {
  readonly deps: OpDeps;
  readonly job: JobContext;
  readonly remote: RemoteSources;
  readonly memo: ContextMemo;
  readonly records: RecordWrites;
}

/** pin resolves a source like BuildKit: an image by its manifest, the client's files by their checksum, URLs by content. */
async function pin(vertex: Vertex, ctx: RunnerContext): Promise<SourcePin> {
  const { deps, job, remote } = ctx;
  const op = vertex.op;
  if (op.kind !== 'source') throw new InternalError(`Cannot pin a ${op.kind} op: only sources are pinned`);
  const source = op.source;
  switch (source.type) {
    case 'http':
    case 'git':
      return remote.pin(vertex, source, deps, job);
    case 'image': {
      const resolved = await deps.images.resolve(source.ref, { platform: op.platform, signal: job.signal });
      // The pinned manifest, never the tag: a moved tag must miss the cache.
      return { type: 'image', digest: resolved.digest };
    }
    case 'local': {
      // The files a local source selects are what it loads, as BuildKit shows what it transfers from the client:
      // while files are read to digest them, bytes known so far of the total, at most ten times a second.
      const id = `loading ${source.name}:`;
      const loading = { total: 0, known: 0, reported: Date.now() };
      const checksum = await checksumWithWatch(localContext(deps, source), source.includePatterns, {
        watches: deps.contextWatches,
        meta: deps.meta,
        signal: job.signal,
        memo: ctx.memo,
        ...(deps.contextListed === undefined ? {} : { onListing: deps.contextListed }),
        onSelected: (bytes, unread) => Object.assign(loading, { total: bytes, known: bytes - unread }),
        onRead: (bytes) => {
          loading.known += bytes;
          const now = Date.now();
          if (now - loading.reported < TRANSFER_REPORT_MS) return;
          loading.reported = now;
          job.progress.emit({ type: 'status', vertex: vertex.digest, id, current: loading.known, total: loading.total, time: now });
        },
      });
      job.progress.emit({ type: 'status', vertex: vertex.digest, id, current: loading.total, completed: true, time: Date.now() });
      return { type: 'local', checksum };
    }
    default:
      return assertNever(source, 'source');
  }
}

/**
 * RecordWrites writes what a build tells the cache records without holding up the steps after it: the results of the
 * steps it ran, and the last use of the records it hit. The solve's end waits for them and reports the first that failed.
 */
class RecordWrites {
  readonly #writes: Promise<void>[] = [];
  readonly #failed: { message: string; err: unknown }[] = [];
  constructor(readonly deps: Pick<OpDeps, 'cacheKeys'>) {}

  /** made records a step's result under its key (lookups of this build find it at once). */
  made(key: Digest, result: { readonly resultId: string | null; readonly description: string }): void {
    this.#add(this.deps.cacheKeys.record(key, result), `Cannot record the result of cache key ${key}`);
  }

  /** used dates a hit's use, unless its date is younger than USE_DATE_RESOLUTION_MS. */
  used(key: string, lastUsedAt: number): void {
    if (Date.now() - lastUsedAt < USE_DATE_RESOLUTION_MS) return;
    this.#add(this.deps.cacheKeys.markUsed(key), `Cannot date the last use of cache record ${key}`);
  }

  async settled(): Promise<void> {
    await Promise.all(this.#writes);
    const [first] = this.#failed;
    if (first !== undefined) throw new SnapshotError(first.message, { cause: first.err });
  }

  #add(write: Promise<void>, message: string): void {
    this.#writes.push(write.catch((err: unknown) => void this.#failed.push({ message, err })));
  }
}

/**
 * A cache hit used again within this long keeps its date: collection orders results by last use in hours and days,
 * and builds repeated within the minute write nothing (each date is a commit that waits for the disk).
 */
const USE_DATE_RESOLUTION_MS = 60_000;

/** RESOLVE_TIMEOUT_MS bounds the registry lookup of a base image's cached result. */
const RESOLVE_TIMEOUT_MS = 60_000;

async function lookup(
  vertex: Vertex,
  key: Digest,
  { deps, records, expected }: { readonly deps: OpDeps; readonly records: RecordWrites; readonly expected: ExpectedRuns },
  signal: AbortSignal,
): Promise<Ref | undefined> {
  const op = vertex.op;
  if (op.kind === 'source' && op.source.type !== 'http' && op.source.type !== 'git') {
    if (op.source.type === 'local') return undefined;
    // The build's interrupt stops the lookup too, not only its time limit.
    const bounded = AbortSignal.any([signal, AbortSignal.timeout(RESOLVE_TIMEOUT_MS)]);
    const resolved = await deps.images.resolve(op.source.ref, { platform: op.platform, signal: bounded });
    const top = findPulledImage(resolved, deps);
    if (top === undefined) return undefined;
    await testPause('cache-hit');
    return { kind: 'snapshot', snapshotId: top };
  }
  const rec = deps.cacheKeys.lookup(key);
  if (rec === undefined) {
    if (op.kind === 'exec') expected.missed(vertex.digest, op);
    return undefined;
  }
  if (rec.resultId !== null && !deps.snapshotter.exists(rec.resultId)) return undefined;
  // Collection keeps what builds use.
  records.used(key, rec.lastUsedAt);
  await testPause('cache-hit');
  return { kind: 'snapshot', snapshotId: rec.resultId };
}

/**
 * ExpectedRuns tells the executor, once per RUN, that a RUN whose key missed will run once its inputs are made, so
 * that what it needs (its network) gets ready meanwhile. A RUN missed under its usual key and then under its content
 * key is still one RUN. The executor is made here, where it would be made for the RUN anyway; one that cannot be made
 * fails that RUN, with the reason, when it asks for it.
 */
class ExpectedRuns {
  readonly #told = new Set<string>();
  constructor(readonly deps: Pick<OpDeps, 'executor' | 'network'>) {}

  missed(vertex: string, op: ExecOp): void {
    if (this.#told.has(vertex)) return;
    this.#told.add(vertex);
    this.deps.executor().then(
      (executor) => executor.expect?.(execNetwork(op, this.deps)),
      () => undefined,
    );
  }
}

async function run(vertex: Vertex, key: Digest, inputs: readonly Ref[], ctx: RunnerContext): Promise<Ref> {
  const { deps, job, remote, records } = ctx;
  const op = vertex.op;
  const record = (ref: Ref): Ref => recorded(key, vertex, ref, deps, records);
  switch (op.kind) {
    case 'source': {
      const source = op.source;
      if (source.type === 'http' || source.type === 'git') {
        return record({ kind: 'snapshot', snapshotId: await remote.run(vertex.digest, source, deps, job) });
      }
      if (source.type === 'local') {
        const ctx = localContext(deps, source);
        return { kind: 'local', name: source.name, dir: ctx.dir, isExcluded: ctx.isExcluded };
      }
      const resolved = await deps.images.resolve(source.ref, { platform: op.platform, signal: job.signal });
      return { kind: 'snapshot', snapshotId: await pullImage(resolved, deps, job, vertex.digest) };
    }
    case 'exec':
      return record(await runExec(op, inputs, deps, job, vertex.digest));
    case 'file':
      return record(await runFileOp(op, inputs, deps, job, { vertexDigest: vertex.digest, listNames: ctx.memo.listNames }));
    case 'merge':
      return record(await runMerge(op, inputs, deps, job));
    default:
      return assertNever(op, 'op');
  }
}

/** recorded records a step's result under its key, the write going on while the build does. */
function recorded(key: Digest, vertex: Vertex, ref: Ref, deps: OpDeps, records: RecordWrites): Ref {
  if (ref.kind !== 'snapshot') throw new InternalError('Cannot cache a local folder');
  records.made(key, { resultId: ref.snapshotId, description: vertex.metadata.name });
  if (ref.snapshotId !== null) deps.snapshotCommitted?.(vertex.digest, ref.snapshotId);
  return ref;
}

/** localContext is a named context with the source's --exclude patterns applied on top of its .dockerignore. */
function localContext(deps: OpDeps, source: LocalSource): LocalContext {
  const ctx = context(deps, source.name);
  if (source.excludePatterns.length === 0) return ctx;
  const excluded = excludeMatcherOf(deps)(source.excludePatterns);
  const scanKey = ctx.scanKey === undefined ? {} : { scanKey: JSON.stringify([ctx.scanKey, source.excludePatterns]) };
  // What the context's own patterns surely leave out stays out with more excludes.
  const surely = ctx.isSurelyExcluded === undefined ? {} : { isSurelyExcluded: ctx.isSurelyExcluded };
  return { dir: ctx.dir, isExcluded: (rel) => ctx.isExcluded(rel) || excluded(rel), ...scanKey, ...surely };
}

function context(deps: OpDeps, name: string): LocalContext {
  const ctx = deps.contexts.get(name);
  if (ctx === undefined) throw new InternalError(`Cannot find the build context "${name}"`);
  return ctx;
}
