import type { HistoryRecord, HistoryRecordStatus, RecordedError, RecordedResult, RecordedWarning, StepRecord } from '../base/build-record.js';
import { BUILD_RECORD_VERSION, DEFAULT_TENANT } from '../base/build-record.js';
import { CancelledError, errorLocation, SolveError, TbuildError, type SourceLocation } from '../base/errors.js';
import { formatPlatform } from '../base/oci.js';
import type { ProgressEvent, ProgressSink } from '../base/progress.js';
import { openHistoryLog, recordChecksumListing, type HistoryLogWriter, type HistoryPolicy, type HistoryStore, type MetadataStore } from '../cache/index.js';
import type { Vertex } from '../solver/graph/index.js';
import { recordedDockerfile, recordedRequest } from './history-request.js';
import { explainRecord } from './history-explain.js';
import type { BuildRequest, BuildResult } from './request.js';

/** BuildObserver is told what a build computes beyond its progress: the keys of its steps and its Dockerfile. */
export interface BuildObserver {
  /** keyed tells the key a vertex was looked up under. */
  keyed(vertex: Vertex, key: string): void;
  /** contextListed tells the files a context checksum covered. */
  contextListed(checksum: string, lines: readonly string[]): void;
  /** dockerfile tells the Dockerfile the build compiles, once its inputs are ready. */
  dockerfile(name: string, text: string): void;
}

type MutableStep = { -readonly [K in keyof StepRecord]: StepRecord[K] };

/** Steps are rewritten at most this often while a build runs, so a killed build still shows how far it came. */
const REWRITE_MS = 2000;
/**
 * A build is first written once it runs a step of its graph, or this long after it started: a build whose steps all
 * come from the cache is written once, at its end (each write is a commit that waits for the disk), also when its
 * export (a phase, not a step) starts at once. A process killed before either leaves no record of that build.
 */
const START_WRITE_MS = 1000;

/** HistoryRecorder keeps one build's record: written once a step runs, rewritten as it goes, finished at its end. */
export class HistoryRecorder implements BuildObserver {
  readonly #store: HistoryStore;
  readonly #meta: MetadataStore;
  readonly #steps = new Map<string, MutableStep>();
  readonly #keyedVertices = new Map<string, Keyed>();
  /** The vertices of the build's graph (the solver plans them); the build's phases (export, cache transfer) are not. */
  readonly #planned = new Set<string>();
  readonly #warnings: RecordedWarning[] = [];
  readonly #contextChecksums = new Set<string>();
  readonly #writes = new Set<Promise<void>>();
  /** The record's log file, made when the first step writes output (a build of cached steps has none). */
  #log: HistoryLogWriter | undefined;
  #record: HistoryRecord;
  #lastWrite = 0;
  /** The first write made while the build ran that failed. */
  #writeError: Error | undefined;
  /** The records before this build, read once for `--explain`. */
  #earlier: HistoryRecord[] | undefined;
  /** Writes the running record START_WRITE_MS into the build, unless a step ran first or the build ended. */
  #startTimer: NodeJS.Timeout | undefined;

  private constructor(store: HistoryStore, meta: MetadataStore, record: HistoryRecord) {
    this.#store = store;
    this.#meta = meta;
    this.#record = record;
    // The first rewrite comes REWRITE_MS into the build: a build shorter than that is written at its start and end only.
    this.#lastWrite = record.createdAt;
  }

  /** start begins the record of a build that has just been accepted (written as START_WRITE_MS says). */
  static async start(store: HistoryStore & { ensureDir(): Promise<void> }, meta: MetadataStore, options: { readonly ref: string; readonly clientId: string; readonly tenant?: string; readonly request: BuildRequest }): Promise<HistoryRecorder> {
    await store.ensureDir();
    const record: HistoryRecord = {
      version: BUILD_RECORD_VERSION,
      ref: options.ref,
      clientId: options.clientId,
      ...(options.tenant === undefined ? {} : { tenant: options.tenant }),
      pid: process.pid,
      status: 'running',
      createdAt: Date.now(),
      completedAt: 0,
      request: recordedRequest(options.request),
      steps: [],
      warnings: [],
      keys: {},
      logFileBytes: 0,
    };
    const recorder = new HistoryRecorder(store, meta, record);
    recorder.#startTimer = setTimeout(() => recorder.#writeRunning(), START_WRITE_MS).unref();
    return recorder;
  }

  /** Writes the running record, once: from then on `history ls` in other processes shows the build as running. */
  #writeRunning(): void {
    if (this.#startTimer === undefined) return;
    clearTimeout(this.#startTimer);
    this.#startTimer = undefined;
    // Written while the build goes on (it commits within milliseconds); the end's write follows it.
    this.#track(this.#store.put(this.#record));
  }

  /** progress is the build's progress sink with every event also recorded. */
  progress(sink: ProgressSink): ProgressSink {
    const explain = this.#record.request.explain === true;
    return {
      emit: (e) => {
        this.#observe(e);
        // `--explain`: why a step ran is said before it is reported done, so it shows under the step.
        if (explain && e.type === 'vertex.completed' && e.error !== 'cancelled') {
          const explained = this.#explain(e.vertex, e.time);
          if (explained !== undefined) sink.emit(explained);
        }
        sink.emit(e);
      },
    };
  }

  keyed(vertex: Vertex, key: string): void {
    // The key a vertex was looked up under comes first; the solve's list of keys after it does not replace it.
    if (this.#keyedVertices.has(vertex.digest)) return;
    const keyed: Keyed = { vertex, key };
    this.#keyedVertices.set(vertex.digest, keyed);
    const step = this.#steps.get(vertex.digest);
    if (step !== undefined) this.#describe(step, keyed);
  }

  /**
   * Gives a step its key's facts. Whether its cache record was there before the step ran tells "pruned" from
   * "unusable" later: a step from the cache found it; one that runs is asked once it starts (its record is written
   * when it ends), not at every lookup of a build whose steps all come from the cache.
   */
  #describe(step: MutableStep, keyed: Keyed): void {
    describeStep(step, keyed);
    if (step.cached) step.cacheRecordFound = true;
    else if (step.status === 'running' && step.cacheRecordFound === undefined) step.cacheRecordFound = this.#meta.cacheRecords.doesExist(keyed.key);
  }

  contextListed(checksum: string, lines: readonly string[]): void {
    this.#contextChecksums.add(checksum);
    this.#track(recordChecksumListing(this.#meta, checksum, lines));
  }

  dockerfile(name: string, text: string): void {
    this.#record = { ...this.#record, request: { ...this.#record.request, ...recordedDockerfile(name, text) } };
  }

  /**
   * finish ends the record: how the build ended, its result or error, the contexts it read; then the policy prunes. It
   * resolves once the record's log is closed, with the commit of its writes (made once `commitAfter` settled: the
   * caller answers its client first), which also reports a failed earlier write: the history store shows the record
   * in this process meanwhile.
   */
  async finish(
    outcome: { readonly result: BuildResult } | { readonly error: unknown; readonly cancelled: boolean },
    policy: HistoryPolicy,
    options: { readonly commitAfter?: Promise<unknown> } = {},
  ): Promise<{ readonly committed: Promise<void> }> {
    clearTimeout(this.#startTimer);
    this.#startTimer = undefined;
    const status: HistoryRecordStatus = 'result' in outcome ? 'completed' : outcome.cancelled ? 'cancelled' : 'failed';
    for (const step of this.#steps.values()) if (step.status === 'running') step.status = status === 'completed' ? 'completed' : 'cancelled';
    const logFileBytes = (await this.#log?.close()) ?? 0;
    // The end's write waits for the earlier writes' commits, not the build's end.
    const earlier = async (): Promise<void> => {
      await Promise.all([...this.#writes]);
      if (this.#writeError !== undefined) throw this.#writeError;
    };
    this.#record = {
      ...this.#record,
      status,
      completedAt: Date.now(),
      steps: this.#stepList(),
      warnings: this.#warnings,
      contextChecksums: [...this.#contextChecksums],
      logFileBytes,
      ...('result' in outcome ? { result: recordedResult(outcome.result) } : { error: this.#recordedError(outcome.error) }),
    };
    // The record and the removals the policy asks for are written together, in one commit.
    return { committed: this.#store.putAndPrune(this.#record, policy, Date.now(), { ...(options.commitAfter === undefined ? {} : { until: options.commitAfter }), after: earlier }).then(() => undefined) };
  }

  /** Why a step that ran did not come from the cache, compared with the earlier records of the store. */
  #explain(vertex: string, time: number): ProgressEvent | undefined {
    const step = this.#steps.get(vertex);
    if (step === undefined || step.cached || step.cacheKey === undefined) return undefined;
    this.#earlier ??= this.#store.list().filter((r) => r.ref !== this.#record.ref && r.clientId === this.#record.clientId && (r.tenant ?? DEFAULT_TENANT) === (this.#record.tenant ?? DEFAULT_TENANT));
    const record: HistoryRecord = { ...this.#record, steps: this.#stepList() };
    const [explained] = explainRecord(record, this.#earlier, { meta: this.#meta, step: step.index });
    if (explained === undefined) return undefined;
    return { type: 'vertex.explain', vertex, ...(explained.comparedWith === undefined ? {} : { comparedWith: explained.comparedWith }), reasons: explained.reasons, time };
  }

  #observe(e: ProgressEvent): void {
    switch (e.type) {
      case 'vertex.started': {
        const step = this.#step(e.vertex, e.name);
        Object.assign(step, { status: 'running', startedAt: e.time });
        const keyed = this.#keyedVertices.get(e.vertex);
        if (keyed !== undefined) this.#describe(step, keyed);
        if (this.#planned.has(e.vertex)) this.#writeRunning();
        break;
      }
      case 'vertex.cached': {
        const step = this.#step(e.vertex, e.name);
        Object.assign(step, { status: 'cached', cached: true, completedAt: e.time, cacheRecordFound: true });
        break;
      }
      case 'vertex.completed': {
        const step = this.#step(e.vertex, e.name);
        const status = e.error === undefined ? 'completed' : e.error === 'cancelled' ? 'cancelled' : 'failed';
        Object.assign(step, { status, completedAt: e.time, durationMs: e.durationMs, ...(e.error === undefined || status === 'cancelled' ? {} : { error: e.error }) });
        this.#rewrite(e.time);
        break;
      }
      case 'vertex.log': {
        const step = this.#step(e.vertex, '');
        const data = e.bytes === undefined ? Buffer.from(e.data, 'utf8') : Buffer.from(e.bytes.buffer, e.bytes.byteOffset, e.bytes.byteLength);
        step.logBytes += data.length;
        this.#log ??= openHistoryLog(this.#store.logPath(this.#record.ref));
        this.#log.write({ step: step.index, stream: e.stream === 'stdout' ? 1 : 2, time: e.time, data });
        break;
      }
      case 'vertex.usage': {
        const step = this.#step(e.vertex, '');
        Object.assign(step, { ...(e.memoryPeakBytes === undefined ? {} : { memoryPeakBytes: e.memoryPeakBytes }), ...(e.cpuTimeMs === undefined ? {} : { cpuTimeMs: e.cpuTimeMs }) });
        break;
      }
      case 'warning':
        this.#warnings.push({ message: e.message, ...(e.finding?.location === undefined ? {} : { location: e.finding.location }) });
        break;
      case 'vertex.planned':
        // A step is recorded once it starts or comes from the cache, numbered as the plain progress numbers it.
        this.#planned.add(e.vertex);
        break;
      case 'status':
      case 'vertex.explain':
        break;
    }
  }

  /** The step of a vertex, numbered as the plain progress numbers it when first seen. */
  #step(vertex: string, name: string): MutableStep {
    let step = this.#steps.get(vertex);
    if (step === undefined) {
      step = { index: this.#steps.size + 1, vertex, name, status: 'running', startedAt: 0, completedAt: 0, durationMs: 0, cached: false, logBytes: 0 };
      this.#steps.set(vertex, step);
      const keyed = this.#keyedVertices.get(vertex);
      if (keyed !== undefined) describeStep(step, keyed);
    } else if (step.name === '' && name !== '') step.name = name;
    return step;
  }

  #stepList(): StepRecord[] {
    return [...this.#steps.values()].map((s) => ({ ...s }));
  }

  /** Rewrites the record with the steps so far, at most every REWRITE_MS. */
  #rewrite(now: number): void {
    if (now - this.#lastWrite < REWRITE_MS) return;
    this.#lastWrite = now;
    this.#log?.flush();
    this.#record = { ...this.#record, steps: this.#stepList(), warnings: [...this.#warnings] };
    this.#track(this.#store.put(this.#record));
  }

  /** Keeps a write running while the build goes on; its failure is reported by finish. */
  #track(p: Promise<void>): void {
    const tracked: Promise<void> = p
      .then(undefined, (err: unknown) => {
        this.#writeError ??= err instanceof Error ? err : new Error(String(err));
      })
      .finally(() => this.#writes.delete(tracked));
    this.#writes.add(tracked);
  }

  #recordedError(err: unknown): RecordedError {
    const message = err instanceof Error ? err.message : String(err);
    const location = errorLocation(err);
    const step = err instanceof SolveError ? this.#steps.get(err.vertexDigest)?.index : undefined;
    return {
      message,
      ...(err instanceof TbuildError ? { code: err instanceof CancelledError ? 'CANCELLED' : err.code } : {}),
      ...(location === undefined ? {} : { location }),
      ...(step === undefined ? {} : { step }),
    };
  }
}

/** Keyed is the key a vertex was first looked up under. */
interface Keyed {
  readonly vertex: Vertex;
  readonly key: string;
}

function describeStep(step: MutableStep, { vertex, key }: Keyed): void {
  step.cacheKey = key;
  if (vertex.metadata.location !== undefined) step.location = vertex.metadata.location;
  if (vertex.metadata.ignoreCache === true) step.ignoreCache = true;
  if (vertex.metadata.process !== undefined) step.process = vertex.metadata.process;
  step.platform = formatPlatform(vertex.op.platform);
}

function recordedResult(r: BuildResult): RecordedResult {
  return {
    ...(r.imageId === undefined ? {} : { imageId: r.imageId }),
    ...(r.manifestDigest === undefined ? {} : { manifestDigest: r.manifestDigest }),
    ...(r.pushedDigest === undefined ? {} : { pushedDigest: r.pushedDigest }),
    names: r.names,
  };
}
