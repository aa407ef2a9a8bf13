import { join } from 'node:path';
import { ConfigError, UsageError } from '../base/errors.js';
import { readSettingsTable } from '../registry/index.js';
import { isRootless } from '../base/user-namespace.js';
import type { Executor, NetworkPool, NetworkPoolStats } from '../executor/index.js';

/** OciRuntime names an installed OCI runtime that runs RUN steps instead of tbuild's own sandbox. */
export type OciRuntime = 'runc' | 'crun';

/** ExecutorChoice is the controller's executors, made on first use, with the pool of RUN networks they share. */
export interface ExecutorChoice extends AsyncDisposable {
  /**
   * executor returns the executor, loading its code on the first call; with processSandbox false, the one that runs
   * RUN steps in tbuild's own PID namespace (see processSandboxFor).
   */
  readonly executor: (processSandbox?: boolean) => Promise<Executor>;
  /** networkStats counts the pool's work; undefined until a build ran a process. */
  networkStats(): NetworkPoolStats | undefined;
}

/**
 * createExecutor returns a lazy factory for tbuild's sandbox, or an installed OCI runtime when one is asked for, with
 * one pool of ready RUN networks shared by every build of the controller; disposing it tears the pool down. A trial
 * overlay mount that worked is kept in `overlayProbeMemo` (overlayProbeMemoOf).
 */
export function createExecutor(tmp: string, runtime: OciRuntime | undefined, overlayProbeMemo: string): ExecutorChoice {
  const executors = new Map<boolean, Promise<Executor>>();
  let pool: NetworkPool | undefined;
  const stateDir = join(tmp, 'exec');
  // The executor module loads only when a build runs a process: cached builds never pay for it.
  const load = (processSandbox: boolean): Promise<Executor> =>
    import('../executor/index.js').then((m) => {
      const networks = (pool ??= m.createNetworkPool());
      if (runtime !== undefined) return m.createRuncExecutor({ stateDir, runtime, networks, overlayProbeMemo });
      return m.createNamespaceExecutor({ stateDir, networks, overlayProbeMemo, ...(processSandbox ? {} : { processSandbox: false }) });
    });
  return {
    executor: (processSandbox = true) => {
      let executor = executors.get(processSandbox);
      if (executor === undefined) executors.set(processSandbox, (executor = load(processSandbox)));
      return executor;
    },
    networkStats: () => pool?.stats(),
    async [Symbol.asyncDispose]() {
      // A load still under way gives its pool too: wait for it, so no network outlives the controller.
      await Promise.allSettled([...executors.values()]);
      await pool?.[Symbol.asyncDispose]();
    },
  };
}

/**
 * overlayProbeMemoOf is where the store at `root` keeps a trial overlay mount that worked: a file of the store's own,
 * not a temporary one (tmp/ holds only what builds leave while they run).
 */
export function overlayProbeMemoOf(root: string): string {
  return join(root, 'overlay-probe.json');
}

/**
 * processSandboxFor says whether RUN steps get a PID namespace and /proc of their own: false when the flag
 * (--no-process-sandbox) says so, else the settings file's `[executor] process-sandbox` (default true). Without one,
 * RUN steps see and may signal tbuild's processes: as BuildKit's NoProcessSandbox, only rootless tbuild (whose
 * processes are an ordinary user's) with its own sandbox may run them so, and anything else is refused.
 *
 *   [executor]
 *   process-sandbox = false   # where /proc is masked (a Kubernetes pod): no PID namespace per RUN step
 */
export async function processSandboxFor(settingsFile: string | undefined, flag: boolean | undefined, runtime: OciRuntime | undefined): Promise<boolean> {
  let processSandbox = flag;
  let source = '--no-process-sandbox';
  if (processSandbox === undefined) {
    const table = await readSettingsTable(settingsFile, 'executor', ['process-sandbox']);
    const value = table?.entries.get('process-sandbox') ?? true;
    if (typeof value !== 'boolean') throw new ConfigError(`${table?.where('process-sandbox') ?? 'process-sandbox'} must be true or false`);
    processSandbox = value;
    source = '[executor] process-sandbox = false';
  }
  if (processSandbox) return true;
  if (runtime !== undefined) throw new UsageError(`Cannot use ${source} with --oci-runtime ${runtime}: only tbuild's own sandbox runs RUN steps without a process sandbox`);
  if (!isRootless()) {
    throw new UsageError(`Cannot use ${source}: tbuild runs as root, where RUN steps could signal any process of the host`, {
      hint: 'it is for rootless tbuild in a container whose /proc is masked (see README, Rootless)',
    });
  }
  return false;
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
