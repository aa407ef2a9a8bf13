import { status as Status, type MethodDefinition, type ServerUnaryCall, type ServerWritableStream, type ServiceDefinition, type UntypedServiceImplementation, type sendUnaryData } from '@grpc/grpc-js';
import type { Logger } from '../base/log.js';
import type { Readiness } from '../controller/index.js';
import { SERVICE_NAME } from './proto.js';
import { decodeMessage, encodeMessage } from './wire-codec.js';
import { enumType, message, type AnyMessage, type MessageOf } from './wire-schema.js';

/**
 * The standard gRPC health service (grpc.health.v1.Health, the one Kubernetes' `grpc:` probes and grpc_health_probe
 * call) and the builder's health state behind it and behind `--health-addr`: serving once the store is open and the
 * sandbox is usable, not serving from the moment the server starts to drain.
 */

/** HEALTH_SERVICE_NAME is the fully qualified name of the standard health service. */
export const HEALTH_SERVICE_NAME = 'grpc.health.v1.Health';

const SERVING_STATUS = enumType('ServingStatus', ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN']);
const CHECK_REQUEST = message('HealthCheckRequest', { service: { no: 1, type: 'string' } });
const CHECK_RESPONSE = message('HealthCheckResponse', { status: { no: 1, type: SERVING_STATUS } });

/** ServingStatus is a status the health service answers. */
export type ServingStatus = (typeof SERVING_STATUS.values)[number];


/** ReadinessCheck says whether the builder can take builds (store and sandbox); it never throws. */
export type ReadinessCheck = () => Promise<Readiness>;

/** How often a Watch call looks again at a readiness that can change by itself (the sandbox removed, the store gone). */
const WATCH_RECHECK_MS = 5_000;

/** HealthState is the server's health: what the readiness check says, until the server drains. */
export class HealthState {
  #draining = false;
  readonly #listeners = new Set<() => void>();
  readonly #check: ReadinessCheck;

  constructor(check: ReadinessCheck) {
    this.#check = check;
  }

  /** readiness evaluates the state now: not ready while draining, else the check's answer. */
  async readiness(): Promise<Readiness> {
    if (this.#draining) return { ready: false, reason: 'draining: the builder is shutting down' };
    const r = await this.#check();
    return this.#draining ? { ready: false, reason: 'draining: the builder is shutting down' } : r;
  }

  /** drain marks the server as shutting down for good and tells every watcher. */
  drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    for (const l of this.#listeners) l();
  }

  get draining(): boolean {
    return this.#draining;
  }

  /** onChange calls `listener` when the server starts to drain; the returned function unsubscribes. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }
}

/** Services the health service knows: the server as a whole ("") and the builder service. */
const KNOWN_SERVICES: ReadonlySet<string> = new Set(['', SERVICE_NAME]);

function method<Req extends AnyMessage, Res extends AnyMessage>(name: string, req: Req, res: Res, streams: boolean): MethodDefinition<MessageOf<Req>, MessageOf<Res>> {
  return {
    path: `/${HEALTH_SERVICE_NAME}/${name}`,
    requestStream: false,
    responseStream: streams,
    originalName: name,
    requestSerialize: (r) => encodeMessage(req, r),
    requestDeserialize: (b) => decodeMessage(req, b),
    responseSerialize: (r) => encodeMessage(res, r),
    responseDeserialize: (b) => decodeMessage(res, b),
  };
}

/** healthServiceDefinition gives the methods of grpc.health.v1.Health, for the server and for clients (tests, probes). */
export function healthServiceDefinition(): ServiceDefinition {
  return { Check: method('Check', CHECK_REQUEST, CHECK_RESPONSE, false), Watch: method('Watch', CHECK_REQUEST, CHECK_RESPONSE, true) };
}

type CheckRequest = MessageOf<typeof CHECK_REQUEST>;
type CheckResponse = MessageOf<typeof CHECK_RESPONSE>;

const statusOf = (r: Readiness): ServingStatus => (r.ready ? 'SERVING' : 'NOT_SERVING');

/** healthServiceImpl answers Check and Watch from the state; Watch streams end when the server drains and shuts down. */
export function healthServiceImpl(state: HealthState, logger: Logger): UntypedServiceImplementation {
  return {
    Check: (call: ServerUnaryCall<CheckRequest, CheckResponse>, cb: sendUnaryData<CheckResponse>) => {
      if (!KNOWN_SERVICES.has(call.request.service)) {
        cb({ code: Status.NOT_FOUND, details: `unknown service "${call.request.service}"` });
        return;
      }
      state.readiness().then(
        (r) => cb(null, { status: statusOf(r) }),
        (err: unknown) => cb({ code: Status.INTERNAL, details: String(err) }),
      );
    },
    Watch: (call: ServerWritableStream<CheckRequest, CheckResponse>) => {
      if (!KNOWN_SERVICES.has(call.request.service)) {
        // The protocol keeps the stream open for a service that may appear later; this server's services never change.
        call.write({ status: 'SERVICE_UNKNOWN' });
        const unsubscribe = state.onChange(() => call.end());
        call.on('cancelled', unsubscribe);
        return;
      }
      watchHealth(call, state, logger);
    },
  };
}

/** watchHealth sends the status now and each change of it, until the client leaves or the server drains. */
function watchHealth(call: ServerWritableStream<CheckRequest, CheckResponse>, state: HealthState, logger: Logger): void {
  let last: ServingStatus | undefined;
  let ended = false;
  const send = async (): Promise<void> => {
    const now = statusOf(await state.readiness());
    if (ended || now === last) return;
    last = now;
    call.write({ status: now });
    // A draining server lets its calls end before it stops: the watcher has had NOT_SERVING, the stream ends.
    if (state.draining) finish();
  };
  const report = (): void => void send().catch((err: unknown) => logger.warn('health watch failed', { error: String(err) }));
  const timer = setInterval(report, WATCH_RECHECK_MS);
  const unsubscribe = state.onChange(report);
  const finish = (): void => {
    if (ended) return;
    ended = true;
    clearInterval(timer);
    unsubscribe();
    call.end();
  };
  call.on('cancelled', finish);
  report();
}
