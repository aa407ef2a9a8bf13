import { spawn, type ChildProcess } from 'node:child_process';
import { Readable, Writable } from 'node:stream';
import { ExecError, InternalError } from '../base/errors.js';
import { holdChild, waitForClose } from './child-process.js';
import { openNetworkNamespace, type NetworkNamespace } from './network-namespace.js';

/**
 * A RUN's default network: a network namespace of its own, held by a descriptor of this process (so it goes with the
 * process, however that ends, and leaves no mount behind) and named by its /proc path, so that tbuild's helper and
 * OCI runtimes alike join it. Its only way out is slirp4netns, a user-mode TCP/IP stack on the host side. Outbound
 * connections leave from the host's addresses as if the host made them; the host's loopback is out of reach (its
 * gateway address is not mapped to 127.0.0.1), and nothing on the host is forwarded into the namespace. This is
 * what BuildKit's bridge network gives a step, with no host firewall or bridge to set up, and it works rootless.
 */

/** SANDBOX_INTERFACE is the namespace's interface, named as BuildKit's steps see theirs. */
export const SANDBOX_INTERFACE = 'eth0';
/** slirp4netns's usual MTU for speed: the largest a tap device takes, far fewer packets per byte than 1500. */
const MTU = 65520;
const READY_FD = 3;
const EXIT_FD = 4;
/** unshare(1)'s exit status when it cannot execute the program it was given. */
const UNSHARE_EXEC_FAILED = 127;
/** How long slirp4netns may take to quit once told to, before it is killed. */
const QUIT_GRACE_MS = 2000;

/** SandboxNetwork is one RUN's network namespace, with its user-mode stack running; disposing it tears both down. */
export interface SandboxNetwork extends AsyncDisposable {
  /** The namespace's path (/proc/PID/fd/N): join it with setns, or name it as a runtime spec's network namespace path. */
  readonly nsPath: string;
  /** ready resolves once the namespace has its interface, address, routes and loopback; it rejects with an ExecError. */
  ready(): Promise<void>;
  /** release starts tearing the stack down (the process using the network has ended); disposing waits for it. */
  release(): void;
}

/** NetworkRequest is what a RUN asking for its network gives: its signal, and its command for errors. */
export interface NetworkRequest {
  readonly signal: AbortSignal;
  readonly argv: readonly string[];
}

/** SandboxNetworkOptions configures one network; slirp4netns is looked up in PATH by default. */
export interface SandboxNetworkOptions extends NetworkRequest {
  readonly slirp4netns?: string;
}

/** NetworkProvider hands each RUN a network namespace no other RUN has used (BuildKit's network.Provider). */
export interface NetworkProvider {
  /** acquire returns the RUN's network; it throws an ExecError when no namespace can be made. */
  acquire(request: NetworkRequest): SandboxNetwork;
  /** expect says that a RUN will probably ask for a network soon (its cache key missed): a pool gets one ready. */
  expect?(): void;
}

/** NetworkStartFailure says why a prepared network could not start; the RUN that gets it turns it into an ExecError. */
export class NetworkStartFailure extends Error {
  constructor(
    readonly what: string,
    readonly detail: string,
    options?: { cause: unknown },
  ) {
    super(`${what}${detail === '' ? '' : `: ${detail}`}`, options);
    this.name = 'NetworkStartFailure';
  }
}

/**
 * PreparedNetwork is a network namespace with slirp4netns started on it, bound to no RUN yet: a pool makes these ahead
 * of the RUNs that take them.
 */
export interface PreparedNetwork {
  readonly nsPath: string;
  /** ready settles once slirp4netns configured the namespace; it rejects with a NetworkStartFailure. */
  readonly ready: Promise<void>;
  /** isEnded tells whether slirp4netns has ended (it failed, or was stopped): such a network is of no use. */
  isEnded(): boolean;
  /** hold makes this process wait for slirp4netns before it exits (true), or not (false: an idle pooled network). */
  hold(keep: boolean): void;
  /** stop starts the teardown at once (slirp4netns quits, killed after a grace period; the namespace's descriptor closes). */
  stop(): Promise<void>;
}

function stderrOf(child: ChildProcess): () => string {
  const chunks: Buffer[] = [];
  child.stderr?.on('data', (b: Buffer) => chunks.push(b));
  return () => Buffer.concat(chunks).toString('utf8').trim().split('\n').slice(-3).join('; ');
}

/** networkStartError is the RUN's error for a network that could not start. */
export function networkStartError(options: NetworkRequest, failure: NetworkStartFailure): ExecError {
  return new ExecError(`Cannot set up the network of ${JSON.stringify(options.argv)}: ${failure.message}`, {
    code: 'EXEC_START',
    argv: options.argv,
    hint: 'install slirp4netns (Debian: apt-get install slirp4netns), or run the step with --network=host or --network=none',
    ...(failure.cause === undefined ? {} : { cause: failure.cause }),
  });
}

/** Slirp is a slirp4netns process: `ready` settles once it configured the interface, routes and lo, or failed. */
interface Slirp {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  readonly closed: Promise<unknown>;
}

/** spawnSlirp starts slirp4netns on the namespace without waiting for it. */
function spawnSlirp(nsPath: string, binary: string): Slirp {
  const args = [
    '--configure',
    `--mtu=${MTU}`,
    '--disable-host-loopback',
    // It parses every packet a build step sends, as root: confined to an empty root, few capabilities and a seccomp
    // filter, as rootless Docker runs it.
    '--enable-sandbox',
    '--enable-seccomp',
    `--ready-fd=${READY_FD}`,
    `--exit-fd=${EXIT_FD}`,
    '--netns-type=path',
    nsPath,
    SANDBOX_INTERFACE,
  ];
  // fd 3 carries the ready byte; slirp4netns quits when fd 4 reaches end of file, so it dies with this process too.
  // Its sandbox makes a mount namespace, makes only "/" private and detaches the old root: every other mount stays a
  // peer of the host's, so the detach would unmount the host's mounts below shared ones (a Docker engine's container
  // roots, a systemd host's /sys/fs/cgroup). unshare(1) first gives it a namespace whose mounts are all private.
  const child = spawn('unshare', ['--mount', '--propagation', 'private', '--', binary, ...args], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
  const stderr = stderrOf(child);
  const readyPipe = child.stdio[READY_FD];
  if (!(readyPipe instanceof Readable)) throw new InternalError('slirp4netns ready pipe is missing');
  const closed = waitForClose(child);
  const ready = new Promise<'ready' | 'ended'>((resolve, reject) => {
    readyPipe.once('data', () => resolve('ready'));
    closed.then(() => resolve('ended'), reject);
  }).then(
    (outcome) => {
      readyPipe.destroy();
      // unshare(1) exits 127 when it cannot execute the program (missing, or not executable).
      if (outcome === 'ended') {
        throw new NetworkStartFailure(child.exitCode === UNSHARE_EXEC_FAILED ? 'cannot run slirp4netns' : 'slirp4netns ended before the network was ready', stderr());
      }
    },
    (err: unknown) => {
      throw new NetworkStartFailure('cannot run slirp4netns', '', { cause: err });
    },
  );
  // Whoever takes the network reports a failure through ready(); a network torn down unused must not leave it unhandled.
  ready.catch(() => undefined);
  return { child, ready, closed: closed.catch(() => undefined) };
}

/** untilAborted settles as the promise does, or rejects with the signal's reason once it aborts first. */
function untilAborted(promise: Promise<void>, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  return new Promise<void>((resolve, reject) => {
    // The reason is passed on unchanged, as every abort is (it is how a cancelled build is told from a failed one).
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** stopSlirp closes slirp4netns's exit pipe, so it quits (and its tap device goes), and waits for it, killing it if late. */
async function stopSlirp(slirp: Slirp): Promise<void> {
  const exitPipe = slirp.child.stdio[EXIT_FD];
  if (exitPipe instanceof Writable) exitPipe.destroy();
  else slirp.child.kill('SIGKILL');
  const timer = setTimeout(() => slirp.child.kill('SIGKILL'), QUIT_GRACE_MS);
  try {
    await slirp.closed;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * prepareNetwork makes a network namespace and starts slirp4netns on it (once the namespace exists, for a rootless
 * one), without waiting for it to be ready. It throws a NetworkStartFailure when the namespace cannot be made or
 * slirp4netns cannot be spawned.
 */
export function prepareNetwork(options: { readonly slirp4netns?: string } = {}): PreparedNetwork {
  let ns: NetworkNamespace;
  try {
    ns = openNetworkNamespace();
  } catch (err) {
    throw new NetworkStartFailure('cannot create a network namespace', err instanceof Error ? err.message : String(err), { cause: err });
  }
  const binary = options.slirp4netns ?? 'slirp4netns';
  let slirp: Slirp | undefined;
  let kept = true;
  const start = (): Slirp => {
    try {
      slirp = spawnSlirp(ns.nsPath, binary);
    } catch (err) {
      throw new NetworkStartFailure('cannot run slirp4netns', '', { cause: err });
    }
    holdSlirp(slirp, kept);
    void slirp.closed.then(() => (ended = true));
    return slirp;
  };
  let ended = false;
  let started: Promise<Slirp>;
  if (ns.made === undefined) {
    try {
      started = Promise.resolve(start());
    } catch (err) {
      void ns.close();
      throw err;
    }
  } else {
    started = ns.made.then(start, (err: unknown) => {
      throw new NetworkStartFailure('cannot create a network namespace', err instanceof Error ? err.message : String(err), { cause: err });
    });
  }
  started.catch(() => (ended = true));
  const ready = started.then((s) => s.ready);
  // Whoever takes the network reports a failure through ready(); a network torn down unused must not leave it unhandled.
  ready.catch(() => undefined);
  let stopped: Promise<void> | undefined;
  return {
    nsPath: ns.nsPath,
    ready,
    isEnded: () => ended,
    hold(keep) {
      kept = keep;
      ns.hold(keep);
      if (slirp !== undefined) holdSlirp(slirp, keep);
    },
    stop: () => (stopped ??= stopNetwork(started, ns)),
  };
}

/** stopNetwork stops slirp4netns, if it started, then lets the namespace go. */
async function stopNetwork(started: Promise<Slirp>, ns: NetworkNamespace): Promise<void> {
  try {
    // A slirp4netns that never started failed its network's ready(), which reports it: there is nothing to stop.
    const slirp = await started.then((s) => s, () => undefined);
    if (slirp !== undefined) await stopSlirp(slirp);
  } finally {
    // The last holder: the namespace goes with it (a process still in it keeps it until it ends).
    await ns.close();
  }
}

/** holdSlirp makes this process wait for slirp4netns before it exits (true), or not (false: an idle pooled network). */
function holdSlirp(slirp: Slirp, keep: boolean): void {
  holdChild(slirp.child, keep, [2, READY_FD, EXIT_FD]);
}

/**
 * bindNetwork makes a prepared network one RUN's: errors name the RUN's command, waits end with its signal, and
 * disposing hands the network to `retire` (which tears it down, now or in the background).
 */
export function bindNetwork(prepared: PreparedNetwork, options: NetworkRequest, retire: (network: PreparedNetwork) => Promise<void>): SandboxNetwork {
  const ready = prepared.ready.catch((failure: unknown) => {
    throw failure instanceof NetworkStartFailure ? networkStartError(options, failure) : failure;
  });
  ready.catch(() => undefined);
  let stopping: Promise<void> | undefined;
  return {
    nsPath: prepared.nsPath,
    ready: () => untilAborted(ready, options.signal),
    release: () => void (stopping ??= retire(prepared)),
    async [Symbol.asyncDispose]() {
      await (stopping ??= retire(prepared));
    },
  };
}

/**
 * createSandboxNetwork makes a RUN's network namespace and starts slirp4netns on it. The namespace exists on return
 * (a runtime spec can name it) while slirp4netns still starts: await `ready()` before the process runs. `release()`
 * starts the teardown once the process ended; disposing finishes it.
 */
export function createSandboxNetwork(options: SandboxNetworkOptions): SandboxNetwork {
  options.signal.throwIfAborted();
  let prepared: PreparedNetwork;
  try {
    prepared = prepareNetwork(options);
  } catch (err) {
    throw err instanceof NetworkStartFailure ? networkStartError(options, err) : err;
  }
  return bindNetwork(prepared, options, (network) => network.stop());
}

/** unpooledNetworks makes every RUN's network when the RUN asks for it and tears it down before the RUN ends. */
export const unpooledNetworks: NetworkProvider = { acquire: (request) => createSandboxNetwork(request) };
