import { Metadata, status as Status, type StatusObject } from '@grpc/grpc-js';
import {
  CancelledError, ConfigError, ContentError, DiskFullError, DockerfileError, ExecError, ExportError, FileOpError, InternalError, LimitError, NativeError, OutputClosedError,
  RegistryError, SnapshotError, SolveError, TbuildError, UsageError, type ErrorCode, type SourceLocation,
} from '../base/errors.js';

/** ERROR_TRAILER is the trailing metadata key carrying the JSON error chain. */
export const ERROR_TRAILER = 'tbuild-error-bin';

/** STATUS_FOR_CODE maps every tbuild error code to the gRPC status a call ends with. */
export const STATUS_FOR_CODE: Readonly<Record<ErrorCode, Status>> = {
  DOCKERFILE_SYNTAX: Status.INVALID_ARGUMENT,
  DOCKERFILE_INVALID: Status.INVALID_ARGUMENT,
  DOCKERFILE_CHECK: Status.INVALID_ARGUMENT,
  USAGE: Status.INVALID_ARGUMENT,
  CONFIG: Status.FAILED_PRECONDITION,
  SOLVE_FAILED: Status.ABORTED,
  EXEC_NONZERO_EXIT: Status.ABORTED,
  EXEC_SIGNALED: Status.ABORTED,
  EXEC_START: Status.INTERNAL,
  DIGEST_MISMATCH: Status.DATA_LOSS,
  CONTENT_NOT_FOUND: Status.NOT_FOUND,
  SNAPSHOT: Status.INTERNAL,
  FILE_OP: Status.FAILED_PRECONDITION,
  REGISTRY: Status.UNAVAILABLE,
  REGISTRY_AUTH: Status.PERMISSION_DENIED,
  REGISTRY_NOT_FOUND: Status.NOT_FOUND,
  REFERENCE_INVALID: Status.INVALID_ARGUMENT,
  EXPORT: Status.INTERNAL,
  OUTPUT_CLOSED: Status.CANCELLED,
  NATIVE: Status.INTERNAL,
  CANCELLED: Status.CANCELLED,
  DISK_FULL: Status.RESOURCE_EXHAUSTED,
  LIMIT_EXCEEDED: Status.RESOURCE_EXHAUSTED,
  INTERNAL: Status.INTERNAL,
};

/** WireError is the JSON form of an error and its causes. */
export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly hint?: string;
  readonly location?: SourceLocation;
  readonly vertexName?: string;
  readonly vertexDigest?: string;
  readonly argv?: readonly string[];
  readonly exitCode?: number;
  readonly signal?: string;
  readonly outputTail?: readonly string[];
  readonly ref?: string;
  readonly status?: number;
  readonly syscall?: string;
  readonly errno?: number;
  readonly path?: string;
  readonly cause?: WireError;
}

const MAX_DEPTH = 16;

/** toWireError flattens an error chain into JSON-safe data. */
export function toWireError(err: unknown, depth = 0): WireError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const cause = err.cause !== undefined && depth < MAX_DEPTH ? { cause: toWireError(err.cause, depth + 1) } : {};
  const base = { name: err instanceof TbuildError ? err.name : 'Error', message: err.message, ...cause };
  if (!(err instanceof TbuildError)) return base;
  const extra: Record<string, unknown> = {};
  if (err instanceof DockerfileError || err instanceof SolveError) extra['location'] = err.location;
  if (err instanceof SolveError) Object.assign(extra, { vertexName: err.vertexName, vertexDigest: err.vertexDigest });
  if (err instanceof ExecError) Object.assign(extra, { argv: err.argv, exitCode: err.exitCode, signal: err.signal, outputTail: err.outputTail });
  if (err instanceof RegistryError) Object.assign(extra, { ref: err.ref, status: err.status });
  if (err instanceof NativeError) Object.assign(extra, { syscall: err.syscall, errno: err.errno, path: err.path });
  if (err instanceof DiskFullError && err.path !== undefined) Object.assign(extra, { path: err.path });
  return { ...base, code: err.code, ...(err.hint === undefined ? {} : { hint: err.hint }), ...JSON.parse(JSON.stringify(extra)) };
}

/** statusFor turns an error into the status a call ends with, with the error chain in the trailer. */
export function statusFor(err: unknown): Partial<StatusObject> & { code: Status; details: string; metadata: Metadata } {
  const metadata = new Metadata();
  metadata.set(ERROR_TRAILER, Buffer.from(JSON.stringify(toWireError(err))));
  const code = err instanceof TbuildError ? STATUS_FOR_CODE[err.code] : Status.UNKNOWN;
  return { code, details: err instanceof Error ? err.message : String(err), metadata };
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

function strs(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
}

function locationOf(v: unknown): SourceLocation | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const file = str(Reflect.get(v, 'file'));
  const startLine = num(Reflect.get(v, 'startLine'));
  const endLine = num(Reflect.get(v, 'endLine'));
  const column = num(Reflect.get(v, 'column'));
  if (file === undefined || startLine === undefined || endLine === undefined) return undefined;
  return { file, startLine, endLine, ...(column === undefined ? {} : { column }) };
}

/** fromWireError rebuilds an error (with its class, code, location and causes) from its JSON form. */
export function fromWireError(v: unknown, depth = 0): Error {
  if (typeof v !== 'object' || v === null) return new InternalError('Cannot read the error the builder sent');
  const get = (k: string): unknown => Reflect.get(v, k);
  const message = str(get('message')) ?? 'unknown error';
  const causeRaw = get('cause');
  const cause = causeRaw !== undefined && depth < MAX_DEPTH ? fromWireError(causeRaw, depth + 1) : undefined;
  const c = cause === undefined ? {} : { cause };
  const hint = str(get('hint'));
  const common = { ...c, ...(hint === undefined ? {} : { hint }) };
  const location = locationOf(get('location'));
  const loc = location === undefined ? {} : { location };
  const code = str(get('code'));
  const optStr = (k: string): Record<string, string> => {
    const x = str(get(k));
    return x === undefined ? {} : { [k]: x };
  };
  const optNum = (k: string): Record<string, number> => {
    const x = num(get(k));
    return x === undefined ? {} : { [k]: x };
  };
  switch (str(get('name'))) {
    case 'DockerfileError': {
      const dc = code === 'DOCKERFILE_SYNTAX' || code === 'DOCKERFILE_CHECK' ? code : 'DOCKERFILE_INVALID';
      return new DockerfileError(message, { ...common, ...loc, code: dc });
    }
    case 'SolveError':
      return new SolveError(message, { ...c, ...loc, vertexName: str(get('vertexName')) ?? '', vertexDigest: str(get('vertexDigest')) ?? '' });
    case 'ExecError': {
      const ec = code === 'EXEC_SIGNALED' || code === 'EXEC_START' ? code : 'EXEC_NONZERO_EXIT';
      return new ExecError(message, { ...c, ...optNum('exitCode'), ...optStr('signal'), code: ec, argv: strs(get('argv')), outputTail: strs(get('outputTail')) });
    }
    case 'ContentError':
      return new ContentError(message, { ...c, code: code === 'DIGEST_MISMATCH' ? code : 'CONTENT_NOT_FOUND' });
    case 'RegistryError': {
      const rc = code === 'REGISTRY_AUTH' || code === 'REGISTRY_NOT_FOUND' || code === 'REFERENCE_INVALID' ? code : 'REGISTRY';
      return new RegistryError(message, { ...common, ...optStr('ref'), ...optNum('status'), code: rc });
    }
    case 'NativeError':
      return new NativeError(message, { ...c, ...optStr('path'), syscall: str(get('syscall')) ?? '', errno: num(get('errno')) ?? 0 });
    case 'UsageError':
      return new UsageError(message, common);
    case 'ConfigError':
      return new ConfigError(message, common);
    case 'SnapshotError':
      return new SnapshotError(message, common);
    case 'FileOpError':
      return new FileOpError(message, common);
    case 'ExportError':
      return new ExportError(message, common);
    case 'OutputClosedError':
      return new OutputClosedError(message, common);
    case 'CancelledError':
      return new CancelledError(message, common);
    case 'DiskFullError':
      return new DiskFullError(message, { ...common, ...optStr('path') });
    case 'InternalError':
      return new InternalError(message, common);
    case 'LimitError':
      return new LimitError(message, common);
    default:
      return new Error(message, cause === undefined ? undefined : { cause });
  }
}

/** errorFromTrailer rebuilds the error a server put in a call's trailing metadata, if any. */
export function errorFromTrailer(metadata: Metadata | undefined): Error | undefined {
  const raw = metadata?.get(ERROR_TRAILER)[0];
  if (raw === undefined) return undefined;
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return new InternalError('Cannot read the error the builder sent', { cause: err });
  }
  return fromWireError(parsed);
}
