import type { SourceLocation } from './errors.js';

/**
 * The build history record format: what the store keeps of every build (table `build-history` of the metadata
 * database, keyed by the record's ref, plus one compressed log file per record under `history/`). Readers other than
 * the controller (`tbuild history`, `tbuild debug shell`) read records through these types. A change that readers
 * cannot take bumps BUILD_RECORD_VERSION; readers skip records of a newer version.
 *
 * Life of a record: the controller writes it with status `running` and its process id when the build is accepted,
 * rewrites it as steps end, and finishes it (`completed`, `failed` or `cancelled`) when the build ends. A record still
 * `running` whose process is dead was interrupted (the process was killed): readers report it as `interrupted`.
 */
export const BUILD_RECORD_VERSION = 1;

/** DEFAULT_TENANT is the tenant of a record that names none: local builds, and a builder's clients that no named token or certificate identifies. */
export const DEFAULT_TENANT = 'default';

/** HistoryRecordStatus is how a build ended, or `running` while it has not. */
export type HistoryRecordStatus = 'running' | 'completed' | 'failed' | 'cancelled' | 'interrupted';

/** StepStatus is how one step (vertex) of a build went. */
export type StepStatus = 'running' | 'completed' | 'cached' | 'failed' | 'cancelled';

/** RecordedRequest is what a build was asked for. Secret values are never recorded, only the build args. */
export interface RecordedRequest {
  readonly target?: string;
  readonly platforms: readonly string[];
  readonly buildArgs: Readonly<Record<string, string>>;
  /** Each output as a `type=…,name=…` line, as `--output` takes it (no local paths beyond dest). */
  readonly outputs: readonly string[];
  readonly noCache: boolean;
  readonly noCacheFilter: readonly string[];
  /** `--explain` was asked for. */
  readonly explain?: boolean;
  readonly dockerfileName: string;
  /** sha256 of the Dockerfile's bytes. */
  readonly dockerfileDigest: string;
  readonly dockerfileText: string;
  /** Where the context came from: a folder, an archive, a URL, a remote client, or none. */
  readonly context: string;
}

/** StepRecord is one vertex of a build, numbered as the plain progress output numbers it (`#N`). */
export interface StepRecord {
  /** 1-based, in the order the build first reported the vertex, as `--progress=plain` prints `#N`. */
  readonly index: number;
  /** The vertex digest. */
  readonly vertex: string;
  readonly name: string;
  readonly status: StepStatus;
  /** Where the step started and ended (ms since 1970); 0 when unknown (a cache hit reports one time only). */
  readonly startedAt: number;
  readonly completedAt: number;
  readonly durationMs: number;
  readonly cached: boolean;
  /** The Dockerfile lines of the instruction, when the step comes from one. */
  readonly location?: SourceLocation;
  /** The platform the step ran for (`linux/amd64`), when the graph says. */
  readonly platform?: string;
  /**
   * The stage's environment, working folder and user as of the step, for a Dockerfile step that is not a RUN (FROM,
   * COPY, ADD, WORKDIR): what `tbuild debug shell --step` gives its shell. A RUN's are in its cache key's preimage.
   */
  readonly process?: { readonly env: readonly string[]; readonly cwd: string; readonly user: string };
  /** The step ignored the cache (`--no-cache`, `--no-cache-filter`). */
  readonly ignoreCache?: boolean;
  /** The cache key the step was looked up under. */
  readonly cacheKey?: string;
  /** Whether a cache record of that key was in the store when the step was looked up (a step that ran anyway: its files were gone). */
  readonly cacheRecordFound?: boolean;
  /** Resources of its process, from its cgroup (RUN steps with one). */
  readonly memoryPeakBytes?: number;
  readonly cpuTimeMs?: number;
  readonly error?: string;
  /** Bytes of output the step wrote (stdout and stderr), all kept in the record's log file. */
  readonly logBytes: number;
}

/** RecordedWarning is a warning of a build. */
export interface RecordedWarning {
  readonly message: string;
  readonly location?: SourceLocation;
}

/** RecordedError is the error a build failed with, and where. */
export interface RecordedError {
  readonly message: string;
  readonly code?: string;
  readonly location?: SourceLocation;
  /** The step (index) it failed in, when a step failed. */
  readonly step?: number;
}

/** RecordedResult is what a build made. */
export interface RecordedResult {
  readonly imageId?: string;
  readonly manifestDigest?: string;
  readonly pushedDigest?: string;
  readonly names: readonly string[];
}

/** KeyPreimages are the preimages of the cache keys a build computed, by key (see solver CacheKeyPreimage). */
export type KeyPreimages = Readonly<Record<string, unknown>>;

/** HistoryRecord is one build in the history. */
export interface HistoryRecord {
  readonly version: number;
  /** The record's reference (the build id): what `tbuild history … REF` names. */
  readonly ref: string;
  /** Who asked for the build: a remote client's id, or '' for a local build. */
  readonly clientId: string;
  /** The tenant of `tbuild serve` the build came from (a named token or client certificate); DEFAULT_TENANT when absent. */
  readonly tenant?: string;
  /** The process that ran the build, to tell a running record from an interrupted one. */
  readonly pid: number;
  readonly status: HistoryRecordStatus;
  readonly createdAt: number;
  /** When the build ended; 0 while it runs. */
  readonly completedAt: number;
  readonly request: RecordedRequest;
  readonly steps: readonly StepRecord[];
  readonly warnings: readonly RecordedWarning[];
  readonly error?: RecordedError;
  readonly result?: RecordedResult;
  /**
   * Preimages of the keys the steps were looked up under and of the keys below them, copied into records written by
   * earlier tbuild versions. Records leave it empty now: the store keeps those preimages while a record names their
   * keys (cache/key-preimages.ts), and each build does not write them again.
   */
  readonly keys: KeyPreimages;
  /** The context checksums the build computed, whose file lists the store keeps while the record is kept. */
  readonly contextChecksums?: readonly string[];
  /** Size of the compressed log file. */
  readonly logFileBytes: number;
}

/**
 * HistorySummary is what the store keeps of a record beside it (table `build-history-index`) for retention: when it
 * was made, whether it may still run, its size, and the context checksums whose file lists it keeps alive.
 */
export interface HistorySummary {
  readonly createdAt: number;
  readonly status: HistoryRecordStatus;
  readonly pid: number;
  readonly bytes: number;
  readonly checksums: readonly string[];
}

/** LogStream names the stream of a log chunk in the log file: 1 stdout, 2 stderr. */
export type LogStreamNumber = 1 | 2;

/**
 * LOG_FRAME_HEADER is the size of each chunk's header in a record's log file (gzip of the frames, in build order):
 * step index (uint32 LE), stream (uint8), time (float64 LE, ms since 1970), data length (uint32 LE); then the bytes
 * as the process wrote them.
 */
export const LOG_FRAME_HEADER = 17;

/** ChecksumListing is what a context checksum covered: one `path\0description` line per file, in checksum order. */
export type ChecksumListing = readonly string[];
