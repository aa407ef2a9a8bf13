/** SourceLocation points at a range of lines in a build file (1-based, inclusive). */
export interface SourceLocation {
  readonly file: string;
  readonly startLine: number;
  readonly endLine: number;
  readonly column?: number;
}

/** LineRange is one line of a location as BuildKit's pb.Range gives it in JSON (the zero character left out). */
export interface LineRange {
  readonly start: { readonly line: number };
  readonly end: { readonly line: number };
}

/** lineRanges splits a location into one range per line, as BuildKit's parser reports an instruction's lines. */
export function lineRanges(location: SourceLocation): LineRange[] {
  const ranges: LineRange[] = [];
  for (let line = location.startLine; line <= Math.max(location.startLine, location.endLine); line++) ranges.push({ start: { line }, end: { line } });
  return ranges;
}

/** ErrorCode is every stable error code tbuild reports. */
export type ErrorCode =
  | 'DOCKERFILE_SYNTAX'
  | 'DOCKERFILE_INVALID'
  | 'DOCKERFILE_CHECK'
  | 'USAGE'
  | 'SOLVE_FAILED'
  | 'EXEC_NONZERO_EXIT'
  | 'EXEC_SIGNALED'
  | 'EXEC_START'
  | 'DIGEST_MISMATCH'
  | 'CONTENT_NOT_FOUND'
  | 'SNAPSHOT'
  | 'FILE_OP'
  | 'REGISTRY'
  | 'REGISTRY_AUTH'
  | 'REGISTRY_NOT_FOUND'
  | 'REFERENCE_INVALID'
  | 'EXPORT'
  | 'OUTPUT_CLOSED'
  | 'NATIVE'
  | 'CONFIG'
  | 'CANCELLED'
  | 'DISK_FULL'
  | 'LIMIT_EXCEEDED'
  | 'INTERNAL';

/** TbuildError is the base of every error tbuild raises on purpose. */
export abstract class TbuildError extends Error {
  abstract readonly code: ErrorCode;
  readonly hint: string | undefined;
  constructor(message: string, options: { cause?: unknown; hint?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.hint = options.hint;
    this.name = new.target.name;
  }
}

/** DockerfileError is a parse or compile error in a Dockerfile. */
export class DockerfileError extends TbuildError {
  readonly code: 'DOCKERFILE_SYNTAX' | 'DOCKERFILE_INVALID' | 'DOCKERFILE_CHECK';
  readonly location: SourceLocation | undefined;
  constructor(
    message: string,
    options: { location?: SourceLocation; code?: DockerfileError['code']; cause?: unknown; hint?: string } = {},
  ) {
    super(message, options);
    this.code = options.code ?? 'DOCKERFILE_INVALID';
    this.location = options.location;
  }
}

/** UsageError is a bad command line or setting. */
export class UsageError extends TbuildError {
  readonly code = 'USAGE' as const;
}

/** ConfigError is a bad configuration file. */
export class ConfigError extends TbuildError {
  readonly code = 'CONFIG' as const;
}

/** SolveError wraps the failure of one vertex with its name and location. */
export class SolveError extends TbuildError {
  readonly code = 'SOLVE_FAILED' as const;
  readonly vertexName: string;
  readonly vertexDigest: string;
  readonly location: SourceLocation | undefined;
  constructor(
    message: string,
    options: { vertexName: string; vertexDigest: string; location?: SourceLocation | undefined; cause?: unknown },
  ) {
    super(message, options);
    this.vertexName = options.vertexName;
    this.vertexDigest = options.vertexDigest;
    this.location = options.location;
  }
}

/** ExecError is a process in the sandbox that exited non-zero or died by a signal. */
export class ExecError extends TbuildError {
  readonly code: 'EXEC_NONZERO_EXIT' | 'EXEC_SIGNALED' | 'EXEC_START';
  readonly argv: readonly string[];
  readonly exitCode: number | undefined;
  readonly signal: string | undefined;
  readonly outputTail: readonly string[];
  constructor(
    message: string,
    options: {
      code: ExecError['code'];
      argv: readonly string[];
      exitCode?: number;
      signal?: string;
      outputTail?: readonly string[];
      cause?: unknown;
      hint?: string;
    },
  ) {
    super(message, options);
    this.code = options.code;
    this.argv = options.argv;
    this.exitCode = options.exitCode;
    this.signal = options.signal;
    this.outputTail = options.outputTail ?? [];
  }
}

/** ContentError is a missing or corrupt blob. */
export class ContentError extends TbuildError {
  readonly code: 'DIGEST_MISMATCH' | 'CONTENT_NOT_FOUND';
  constructor(message: string, options: { code: ContentError['code']; cause?: unknown }) {
    super(message, options);
    this.code = options.code;
  }
}

/** SnapshotError is a failure preparing, mounting or committing a snapshot. */
export class SnapshotError extends TbuildError {
  readonly code = 'SNAPSHOT' as const;
}

/** FileOpError is a COPY, ADD or WORKDIR that cannot be carried out, e.g. a missing source. */
export class FileOpError extends TbuildError {
  readonly code = 'FILE_OP' as const;
}

/**
 * SymlinkLoopError is a path whose symlinks lead on more than the limit (a loop, as `a -> b -> a`): BuildKit stops at
 * 255 links with "too many symlinks"; tbuild stops at 40, as the kernel's ELOOP does.
 */
export class SymlinkLoopError extends FileOpError {
  constructor(path: string) {
    super(`too many symlinks: ${path}`, { hint: 'a symlink on this path leads back to itself (a loop) or through more than 40 links' });
  }
}

/** RegistryError is a failure talking to an OCI registry. */
export class RegistryError extends TbuildError {
  readonly code: 'REGISTRY' | 'REGISTRY_AUTH' | 'REGISTRY_NOT_FOUND' | 'REFERENCE_INVALID';
  readonly ref: string | undefined;
  readonly status: number | undefined;
  constructor(
    message: string,
    options: { code?: RegistryError['code']; ref?: string; status?: number; cause?: unknown; hint?: string } = {},
  ) {
    super(message, options);
    this.code = options.code ?? 'REGISTRY';
    this.ref = options.ref;
    this.status = options.status;
  }
}

/** ExportError is a failure writing an output. */
export class ExportError extends TbuildError {
  readonly code = 'EXPORT' as const;
}

/** OutputClosedError reports that the reader of an output (a pipe on standard output) closed it before the end. */
export class OutputClosedError extends TbuildError {
  readonly code = 'OUTPUT_CLOSED' as const;
}

/** NativeError is a failed system call. */
export class NativeError extends TbuildError {
  readonly code = 'NATIVE' as const;
  readonly syscall: string;
  readonly errno: number;
  readonly path: string | undefined;
  constructor(message: string, options: { syscall: string; errno: number; path?: string; cause?: unknown }) {
    super(message, options);
    this.syscall = options.syscall;
    this.errno = options.errno;
    this.path = options.path;
  }
}

/** LimitError is work refused at once because a limit set for it is reached (a tenant's queue of builds is full). */
export class LimitError extends TbuildError {
  readonly code = 'LIMIT_EXCEEDED' as const;
}

/** DISK_FULL_HINT is the advice every disk-full error gives. */
const DISK_FULL_HINT = 'free space on that disk (tbuild prune removes build cache) and build again';

/**
 * DiskFullError is a write that found no space left on its disk (ENOSPC) or its quota used up (EDQUOT): it names what
 * was written and where, so a full disk is told from a bug.
 */
export class DiskFullError extends TbuildError {
  readonly code = 'DISK_FULL' as const;
  readonly path: string | undefined;
  constructor(message: string, options: { path?: string; cause?: unknown; hint?: string } = {}) {
    super(message, { hint: DISK_FULL_HINT, ...options });
    this.path = options.path;
  }
}

/** isDiskFull tells whether an error, or one of its causes, is a system error saying the disk (or quota) is full. */
export function isDiskFull(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e instanceof DiskFullError || errnoCode(e) === 'ENOSPC' || errnoCode(e) === 'EDQUOT') return true;
  }
  return false;
}

/**
 * asDiskFull turns a disk-full error into a DiskFullError saying what could not be written (`what`, as "store a blob")
 * and where (`path`, else the path the system error names); any other error is returned as it is.
 */
export function asDiskFull(err: unknown, what?: string, path?: string): unknown {
  if (err instanceof DiskFullError || !isDiskFull(err)) return err;
  const where = path ?? systemErrorPath(err);
  const action = what ?? (where === undefined ? 'write' : `write "${where}"`);
  const disk = where === undefined || what === undefined ? 'the disk is full' : `the disk holding "${where}" is full`;
  return new DiskFullError(`Cannot ${action}: ${disk} (no space left on device)`, { ...(where === undefined ? {} : { path: where }), cause: err });
}

/** systemErrorPath is the file a Node system error names: the destination of a copy or rename, else its path. */
function systemErrorPath(err: unknown): string | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if ('dest' in e && typeof e.dest === 'string') return e.dest;
    if ('path' in e && typeof e.path === 'string') return e.path;
  }
  return undefined;
}

/** CancelledError reports a build stopped on request. */
export class CancelledError extends TbuildError {
  readonly code = 'CANCELLED' as const;
}

/** InternalError marks a bug in tbuild. */
export class InternalError extends TbuildError {
  readonly code = 'INTERNAL' as const;
}

/** assertNever makes a switch exhaustive at compile time. */
export function assertNever(value: never, what = 'value'): never {
  throw new InternalError(`Unexpected ${what}: ${JSON.stringify(value)}`);
}

/** errnoCode returns the `code` of a Node system error, if any. */
export function errnoCode(err: unknown): string | undefined {
  if (err !== null && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

/** errorLocation is where in a Dockerfile an error points: a Dockerfile error's or a failed step's line, if it has one. */
export function errorLocation(err: unknown): SourceLocation | undefined {
  return err instanceof DockerfileError || err instanceof SolveError ? err.location : undefined;
}
