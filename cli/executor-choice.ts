import { join } from 'node:path';
import type { Store } from '../controller/index.js';
import { createNamespaceExecutor, createRuncExecutor, type Executor } from '../executor/index.js';

/** createExecutor returns a lazy factory for tbuild's sandbox, or an installed OCI runtime when one is asked for. */
export function createExecutor(store: Store, runtime: 'runc' | 'crun' | undefined): () => Executor {
  let executor: Executor | undefined;
  const stateDir = join(store.tmp, 'exec');
  return () =>
    (executor ??= runtime === undefined ? createNamespaceExecutor({ stateDir }) : createRuncExecutor({ stateDir, runtime }));
}
