import { join } from 'node:path';
import type { Store } from '../controller/index.js';
import type { Executor } from '../executor/index.js';

/** createExecutor returns a lazy factory for tbuild's sandbox, or an installed OCI runtime when one is asked for. */
export function createExecutor(store: Store, runtime: 'runc' | 'crun' | undefined): () => Promise<Executor> {
  let executor: Promise<Executor> | undefined;
  const stateDir = join(store.tmp, 'exec');
  // The executor module loads only when a build runs a process: cached builds never pay for it.
  return () =>
    (executor ??= import('../executor/index.js').then((m) =>
      runtime === undefined ? m.createNamespaceExecutor({ stateDir }) : m.createRuncExecutor({ stateDir, runtime }),
    ));
}
