import { join } from 'node:path';
import { UsageError } from '../base/errors.js';
import { isRootless } from '../base/user-namespace.js';
import type { Executor, NetworkPool, NetworkPoolStats } from '../executor/index.js';

/** OciRuntime names an installed OCI runtime that runs RUN steps instead of tbuild's own sandbox. */
export type OciRuntime = 'runc' | 'crun';

/** ExecutorChoice is the controller's executor, made on first use, with the pool of RUN networks it owns. */
export interface ExecutorChoice extends AsyncDisposable {
  /** executor returns the executor, loading its code on the first call. */
  readonly executor: () => Promise<Executor>;
  /** networkStats counts the pool's work; undefined until a build ran a process. */
  networkStats(): NetworkPoolStats | undefined;
}

/**
 * createExecutor returns a lazy factory for tbuild's sandbox, or an installed OCI runtime when one is asked for, with
 * one pool of ready RUN networks shared by every build of the controller; disposing it tears the pool down.
 */
export function createExecutor(tmp: string, runtime: OciRuntime | undefined): ExecutorChoice {
  let executor: Promise<Executor> | undefined;
  let pool: NetworkPool | undefined;
  const stateDir = join(tmp, 'exec');
  return {
    // The executor module loads only when a build runs a process: cached builds never pay for it.
    executor: () =>
      (executor ??= import('../executor/index.js').then((m) => {
        const networks = (pool = m.createNetworkPool());
        return runtime === undefined ? m.createNamespaceExecutor({ stateDir, networks }) : m.createRuncExecutor({ stateDir, runtime, networks });
      })),
    networkStats: () => pool?.stats(),
    async [Symbol.asyncDispose]() {
      // A load still under way gives its pool too: wait for it, so no network outlives the controller.
      if (executor !== undefined) await Promise.allSettled([executor]);
      await pool?.[Symbol.asyncDispose]();
    },
  };
}

/** ROOTLESS_HINT says where what rootless builds cannot do is described. */
const ROOTLESS_HINT = 'see README, Rootless: what differs from rootful';

/** checkRootlessRuntime refuses an OCI runtime rootless: runc and crun would each need a rootless setup of their own. */
export function checkRootlessRuntime(runtime: OciRuntime | undefined): void {
  if (runtime === undefined || !isRootless()) return;
  throw new UsageError(`Cannot run RUN steps with --oci-runtime ${runtime}: tbuild runs rootless, where only its own sandbox runs them`, { hint: ROOTLESS_HINT });
}

/**
 * checkRootlessLimits refuses cgroup limits and a cgroup parent rootless, before anything runs: cgroups are the host
 * root's (a cached step would not even reach the executor, which refuses them too).
 */
export function checkRootlessLimits(request: { readonly cgroupParent?: string; readonly resources?: object }): void {
  if (!isRootless()) return;
  const limited = request.resources !== undefined && Object.values(request.resources).some((v) => v !== undefined);
  if (request.cgroupParent === undefined && !limited) return;
  const what = request.cgroupParent === undefined ? 'limit the resources of RUN steps' : `place RUN steps under cgroup parent "${request.cgroupParent}"`;
  throw new UsageError(`Cannot ${what}: tbuild runs rootless, and cgroups are the host root's`, { hint: ROOTLESS_HINT });
}
