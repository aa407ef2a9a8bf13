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
export function translateCallError(err: unknown, o: { address: string; started: boolean; cancelled: boolean; tlsFailure?: string }): Error {
  if (!isServiceError(err)) return err instanceof Error ? err : new Error(String(err));
  const remote = errorFromTrailer(err.metadata);
  if (remote !== undefined) return remote;
  if (o.cancelled) return new CancelledError('Build cancelled', { cause: err });
  const where = `builder ${o.address}`;
  switch (err.code) {
    case Status.UNAUTHENTICATED:
      return new ConfigError(`Cannot connect to ${where}: unauthenticated: invalid token`, { hint: 'pass the server token with --token or TBUILD_TOKEN', cause: err });
    case Status.UNAVAILABLE:
      if (o.tlsFailure !== undefined || TLS_FAILURE.test(err.details)) {
        return new ConfigError(`Cannot connect to ${where}: certificate rejected`, { hint: 'check --tlscacert, --tlscert and --tlskey', cause: new Error(o.tlsFailure ?? err.details) });
      }
      if (o.started) return new ConfigError(`Cannot finish the build on ${where}: connection lost`, { hint: 'the builder stopped or the network failed', cause: new Error(err.details) });
      return new ConfigError(`Cannot connect to ${where}: ${err.details}`, { hint: 'check that tbuild serve runs there', cause: err });
    case Status.CANCELLED:
      return new CancelledError(`Build cancelled by ${where}`, { cause: err });
    case Status.DEADLINE_EXCEEDED:
      return new ConfigError(`Cannot reach ${where}: no answer in time`, { cause: err });
    default:
      return new ConfigError(`Cannot use ${where}: ${err.details}`, { cause: err });
  }
}
