import { ExecError } from '../base/errors.js';
import { createBundle } from './bundle.js';
import { findHelper } from './helper-path.js';
import { hostNofileLimit } from './host-limits.js';
import { runHelper } from './run-helper.js';
import type { ExecRequest, ExecResult, Executor } from './types.js';
import { resolveUser } from './user.js';

/** NamespaceExecutorOptions configures the built-in sandbox. */
export interface NamespaceExecutorOptions {
  /** A directory tbuild owns; one bundle per run is created in it and removed afterwards. */
  readonly stateDir: string;
  /** The sandbox helper binary; defaults to native/build/tbuild-sandbox of this package. */
  readonly helperPath?: string;
}

/** createNamespaceExecutor returns an Executor that runs processes through tbuild's own sandbox helper. */
export function createNamespaceExecutor(options: NamespaceExecutorOptions): Executor {
  return {
    async run(request: ExecRequest, runOptions: { signal: AbortSignal }): Promise<ExecResult> {
      const { signal } = runOptions;
      signal.throwIfAborted();
      const started = performance.now();
      const argv = request.process.args;
      const helper = options.helperPath ?? (await findHelper());
      const user = await resolveUser(request.rootfs, request.process.user, { signal, argv });
      await using bundle = await createBundle(options.stateDir, request, {
        rootMode: 'overlay',
        user,
        nofile: await hostNofileLimit(),
        signal,
      });
      const outcome = await runHelper(helper, bundle.dir, request, { signal });
      const durationMs = performance.now() - started;
      if (outcome === undefined) {
        throw new ExecError(`Cannot run ${JSON.stringify(argv)}: the sandbox helper ended without a result`, {
          code: 'EXEC_START',
          argv,
        });
      }
      switch (outcome.type) {
        case 'exited':
          return { exitCode: outcome.exitCode, signal: null, durationMs };
        case 'signaled':
          return { exitCode: null, signal: outcome.signal, durationMs };
        case 'error':
          throw new ExecError(`Cannot run ${JSON.stringify(argv)}: ${outcome.message}`, { code: 'EXEC_START', argv });
      }
    },
  };
}
