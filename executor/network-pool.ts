import { InternalError } from '../base/errors.js';
import {
  bindNetwork,
  networkStartError,
  NetworkStartFailure,
  prepareNetwork,
  type NetworkProvider,
  type NetworkRequest,
  type PreparedNetwork,
  type SandboxNetwork,
} from './sandbox-network.js';

/**
 * A pool of ready RUN networks, as BuildKit keeps ready CNI namespaces (util/network/netpool), so that a RUN does not
 * wait for a namespace and slirp4netns to start, nor for them to stop. Unlike BuildKit's pool, which puts a namespace
 * back once its step ended, a network serves one RUN only and is then torn down in the background: a namespace keeps
 * what a step did to it (addresses, routes, firewall rules and sysctls an insecure step changed, sockets in TIME_WAIT,
 * neighbour entries) and slirp4netns keeps its side of the step's connections, and none of it may reach the next
 * step. Making a fresh one costs a namespace and a process, off the RUN's path: the pool is refilled while RUNs run.
 */

/**
 * DEFAULT_TARGET_SIZE is how many ready networks the pool keeps at most: as many as RUN steps are expected (each RUN
 * whose cache key missed says so before its inputs are made), up to this many.
 */
const DEFAULT_TARGET_SIZE = 2;
/** DEFAULT_IDLE_MS is how long the pool keeps its ready networks once no RUN holds one. */
const DEFAULT_IDLE_MS = 30_000;

/** NetworkPoolOptions configure a pool; `prepare` makes one network (tests give a fake). */
export interface NetworkPoolOptions {
  readonly targetSize?: number;
  readonly idleMs?: number;
  readonly slirp4netns?: string;
  readonly prepare?: () => PreparedNetwork;
}

/** NetworkPoolStats counts what a pool did, for operators and tests. */
export interface NetworkPoolStats {
  /** Networks the pool made ahead of the RUNs. */
  readonly prepared: number;
  /** RUNs that took a network the pool had made (ready or still starting). */
  readonly taken: number;
  /** RUNs that found the pool empty and had their network made when they asked. */
  readonly madeOnDemand: number;
  /** Networks ready in the pool now. */
  readonly idle: number;
  /** Networks being torn down now. */
  readonly stopping: number;
}

/** NetworkPool is a NetworkProvider with ready networks; disposing it tears every network down and waits for it. */
export interface NetworkPool extends NetworkProvider, AsyncDisposable {
  expect(): void;
  stats(): NetworkPoolStats;
}

/**
 * createNetworkPool returns an empty pool. It makes networks for the RUNs it is told to expect, ahead of them; one no
 * RUN was expected for is made when it asks. A pool made no network for RUNs that never come (a build whose last RUN
 * is done, a process that exits after its build would only tear them down again).
 */
export function createNetworkPool(options: NetworkPoolOptions = {}): NetworkPool {
  const targetSize = Math.max(0, options.targetSize ?? DEFAULT_TARGET_SIZE);
  const idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
  const prepare = options.prepare ?? (() => prepareNetwork(options));
  const idle: PreparedNetwork[] = [];
  const stopping = new Set<Promise<void>>();
  const counts = { prepared: 0, taken: 0, madeOnDemand: 0 };
  let closed = false;
  // No filling after a network the pool made failed, until one made on demand works again: no retry loop.
  let broken = false;
  // Set when the builder went idle: the pool stays empty until the next RUN asks.
  let drained = true;
  let filling = false;
  let teardownError: Error | undefined;
  let idleTimer: NodeJS.Timeout | undefined;
  // Networks handed to RUNs and not yet given back: the builder is idle only when none is out.
  let active = 0;
  // RUNs said to come (expect) that have not asked yet: the pool fills up to them, within its target size.
  let expected = 0;

  const retire = (network: PreparedNetwork): Promise<void> => {
    const stop = network.stop().catch((err: unknown) => {
      teardownError ??= err instanceof Error ? err : new InternalError(`Cannot tear a RUN network down: ${String(err)}`);
    });
    stopping.add(stop);
    void stop.finally(() => stopping.delete(stop));
    return Promise.resolve();
  };
  const drain = (): void => {
    for (const network of idle.splice(0)) void retire(network);
  };
  const armIdleTimer = (): void => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => {
      // RUNs expected and never run (found by their content, or their build failed) are expected no more.
      expected = 0;
      drained = true;
      drain();
    }, idleMs);
    // An idle pool never keeps the process alive: its networks go with the process.
    idleTimer.unref();
  };
  /** fill makes networks one at a time, each once the last is ready, until the pool holds one for each expected RUN. */
  const fill = (): void => {
    if (filling || closed || broken || drained || idle.length >= Math.min(targetSize, expected)) return;
    let network: PreparedNetwork;
    try {
      network = prepare();
    } catch (err) {
      if (!(err instanceof NetworkStartFailure)) throw err;
      broken = true;
      return;
    }
    counts.prepared++;
    network.hold(false);
    idle.push(network);
    filling = true;
    const next = (): void => {
      filling = false;
      fill();
    };
    network.ready.then(next, () => {
      broken = true;
      filling = false;
    });
  };
  /** takeIdle returns the oldest pooled network whose slirp4netns still runs, tearing down those that ended. */
  const takeIdle = (): PreparedNetwork | undefined => {
    for (let network = idle.shift(); network !== undefined; network = idle.shift()) {
      if (!network.isEnded()) return network;
      broken = true;
      void retire(network);
    }
    return undefined;
  };
  const refillSoon = (): void => {
    // Once the RUN's process ended, not while it starts or runs: spawning slirp4netns blocks this thread for a few
    // milliseconds and its start takes CPU time. The step's result is committed meanwhile, before the next RUN.
    setImmediate(fill);
  };

  const acquire = (request: NetworkRequest): SandboxNetwork => {
    request.signal.throwIfAborted();
    if (closed) throw new InternalError('Cannot give a RUN a network: the network pool is closed');
    drained = false;
    active++;
    expected = Math.max(0, expected - 1);
    clearTimeout(idleTimer);
    let network = takeIdle();
    const onDemand = network === undefined;
    if (network === undefined) {
      try {
        network = prepare();
      } catch (err) {
        active--;
        throw err instanceof NetworkStartFailure ? networkStartError(request, err) : err;
      }
      counts.madeOnDemand++;
    } else {
      counts.taken++;
    }
    network.hold(true);
    let done = false;
    const bound = bindNetwork(network, request, (used) => {
      if (!done) {
        done = true;
        if (--active === 0 && !closed) armIdleTimer();
        refillSoon();
      }
      // Torn down in the background: the RUN's result does not wait for slirp4netns to quit. A closed pool has no
      // one left to wait for it, so the RUN does.
      return closed ? used.stop() : retire(used);
    });
    return {
      nsPath: bound.nsPath,
      async ready() {
        await bound.ready();
        if (onDemand) broken = false;
      },
      release: bound.release,
      [Symbol.asyncDispose]: () => bound[Symbol.asyncDispose](),
    };
  };

  const expect = (): void => {
    if (closed) return;
    expected++;
    drained = false;
    // A RUN expected while none runs: the networks go if it never comes.
    if (active === 0) armIdleTimer();
    fill();
  };

  return {
    acquire,
    expect,
    stats: () => ({ ...counts, idle: idle.length, stopping: stopping.size }),
    async [Symbol.asyncDispose]() {
      closed = true;
      clearTimeout(idleTimer);
      drain();
      while (stopping.size > 0) await Promise.all([...stopping]);
      if (teardownError !== undefined) throw teardownError;
    },
  };
}
