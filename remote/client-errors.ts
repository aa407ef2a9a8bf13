import { status as Status, type ServiceError } from '@grpc/grpc-js';
import { CancelledError, ConfigError } from '../base/errors.js';
import { errorFromTrailer } from './error-status.js';

function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && 'code' in err && typeof err.code === 'number' && 'details' in err;
}

/** isUnavailable tells whether a call failed because no connection could be made or kept. */
export function isUnavailable(err: unknown): boolean {
  return isServiceError(err) && err.code === Status.UNAVAILABLE && errorFromTrailer(err.metadata) === undefined;
}

const TLS_FAILURE = /certificate|alert|SSL|TLS|handshake|self[- ]signed|unable to verify/i;

/**
 * translateCallError turns a failed call into the error the CLI shows: the server's own error when it sent one,
 * else a clear connection, TLS or token error naming the builder.
 */
export function translateCallError(err: unknown, o: { address: string; started: boolean; cancelled: boolean; tlsFailure?: string; plainTcp?: boolean }): Error {
  if (!isServiceError(err)) return err instanceof Error ? err : new Error(String(err));
  const remote = errorFromTrailer(err.metadata);
  if (remote !== undefined) return remote;
  if (o.cancelled) return new CancelledError('Build cancelled', { cause: err });
  const where = `builder ${o.address}`;
  switch (err.code) {
    case Status.UNAUTHENTICATED:
      return new ConfigError(`Cannot connect to ${where}: unauthenticated: invalid token`, { hint: 'pass the server token with --token or TBUILD_TOKEN', cause: err });
    case Status.UNAVAILABLE:
      // The socket's own errors first: a path may well contain "tls".
      if (!o.started && /ECONNREFUSED|ENOENT|EACCES|EPERM/.test(lastError(err.details))) return unreachable(where, err, o.plainTcp === true);
      if (o.tlsFailure !== undefined || TLS_FAILURE.test(lastError(err.details))) {
        return new ConfigError(`Cannot connect to ${where}: certificate rejected`, { hint: 'check --tlscacert, --tlscert and --tlskey', cause: new Error(o.tlsFailure ?? err.details) });
      }
      if (o.started) return new ConfigError(`Cannot finish the build on ${where}: connection lost`, { hint: 'the builder stopped or the network failed', cause: new Error(err.details) });
      return unreachable(where, err, o.plainTcp === true);
    case Status.CANCELLED:
      return new CancelledError(`Build cancelled by ${where}`, { cause: err });
    case Status.DEADLINE_EXCEEDED:
      return new ConfigError(`Cannot reach ${where}: no answer in time`, { cause: err });
    default:
      return new ConfigError(`Cannot use ${where}: ${err.details}`, { cause: err });
  }
}

/** lastError is what gRPC says the last connection attempt failed with, without its resolver notes. */
function lastError(details: string): string {
  const m = /Last error: (?:Error: )?(.*?)(?:\s*\(\d{4}-[^)]*\))?\.?\s*(?:Resolution note:.*)?$/s.exec(details);
  return (m?.[1] ?? details).trim();
}

/**
 * unreachable says why no connection to a builder came about: nothing listens there, no socket, or, for plain TCP
 * to a server that answers (a TLS one hangs up on a client that does not speak TLS), that TLS is probably needed.
 */
function unreachable(where: string, err: ServiceError, plainTcp: boolean): ConfigError {
  const last = lastError(err.details);
  if (/ECONNREFUSED/.test(last)) return new ConfigError(`Cannot connect to ${where}: nothing listens there (connection refused)`, { hint: 'start tbuild serve with this --addr, or check the address', cause: err });
  if (/ENOENT/.test(last)) return new ConfigError(`Cannot connect to ${where}: no socket there`, { hint: 'start tbuild serve with this --addr, or check the path', cause: err });
  if (/EACCES|EPERM/.test(last)) return new ConfigError(`Cannot connect to ${where}: permission denied`, { hint: 'the socket is mode 0660: run as its owner or group, or as root', cause: err });
  if (plainTcp && /Failed to connect|ECONNRESET|closed|socket hang up/i.test(last)) {
    return new ConfigError(`Cannot connect to ${where}: the builder hung up on a plain TCP connection`, {
      hint: 'a builder on TCP serves TLS unless started with --insecure: pass --tlscacert FILE (with --tlscert/--tlskey when it asks for client certificates)',
      cause: err,
    });
  }
  return new ConfigError(`Cannot connect to ${where}: ${last}`, { hint: 'check that tbuild serve runs there and listens on this address', cause: err });
}

/** isUnreached tells whether a call's error, as translateCallError made it, means no connection came about. */
export function isUnreached(err: unknown): boolean {
  return err instanceof ConfigError && isUnavailable(err.cause);
}
