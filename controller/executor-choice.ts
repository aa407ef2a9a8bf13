import { join } from 'node:path';
import type { Executor } from '../executor/index.js';

/** OciRuntime names an installed OCI runtime that runs RUN steps instead of tbuild's own sandbox. */
export type OciRuntime = 'runc' | 'crun';

/** createExecutor returns a lazy factory for tbuild's sandbox, or an installed OCI runtime when one is asked for. */
export function createExecutor(tmp: string, runtime: OciRuntime | undefined): () => Promise<Executor> {
  let executor: Promise<Executor> | undefined;
  const stateDir = join(tmp, 'exec');
  // The executor module loads only when a build runs a process: cached builds never pay for it.
  return () =>
    (executor ??= import('../executor/index.js').then((m) =>
      runtime === undefined ? m.createNamespaceExecutor({ stateDir }) : m.createRuncExecutor({ stateDir, runtime }),
    ));
}
