import { join } from 'node:path';
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
