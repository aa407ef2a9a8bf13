import { ExecError, SolveError } from '../base/errors.js';
import type { ExecRequest, ExecResult, ExecTerminal, Executor } from '../executor/index.js';
import type { FailedExec } from '../solver/ops/index.js';

/** DEFAULT_SHELL is the command of a debug shell when none is named: the image's /bin/sh, as buildx's `--invoke=on-error`. */
export const DEFAULT_SHELL: readonly string[] = ['/bin/sh'];

/** DebugShellStart is what a debug shell is about to open in: the step (or image), and the error a failed step ended with. */
export interface DebugShellStart {
  readonly stepName: string;
  readonly error?: SolveError;
}

/**
 * DebugShell asks a build to open an interactive shell in the container of a RUN that fails, on the user's terminal,
 * once the rest of the build has stopped. The build then ends with the step's error.
 */
export interface DebugShell {
  /** The command to run in the container; DEFAULT_SHELL when absent. */
  readonly args?: readonly string[];
  readonly terminal: ExecTerminal;
  /** Told just before the shell starts (to stop drawing progress and show the error); the terminal is the shell's after it. */
  readonly starting?: (start: DebugShellStart) => void;
  /** Told how the shell ended: its result, why it could not start, or undefined when the build was interrupted meanwhile. */
  readonly ended?: (outcome: ExecResult | Error | undefined) => void;
}

/** solveErrorOf finds the step failure in an error's cause chain. */
function solveErrorOf(err: unknown): SolveError | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) if (e instanceof SolveError) return e;
  return undefined;
}

/**
 * FailedStepKeeper keeps the first RUN of a build whose process failed, as it ended, and opens the debug shell in it
 * once the build has failed with that step's error. Steps offered later (those stopped because of the first) are
 * released at once.
 */
export class FailedStepKeeper implements AsyncDisposable {
  #kept: FailedExec | undefined;

  /** offer is the solve's keepFailedExec: it takes the first failure only. */
  readonly offer = (failed: FailedExec): boolean => {
    if (this.#kept !== undefined) return false;
    this.#kept = failed;
    return true;
  };

  /**
   * openShell runs the shell in the kept step when `err` (the build's error) is that step's failure, and returns when
   * the shell exits. It never throws for the shell itself: what went wrong is told to `shell.ended`.
   */
  async openShell(err: unknown, shell: DebugShell, executor: () => Promise<Executor>, options: { signal: AbortSignal }): Promise<void> {
    const kept = this.#kept;
    const failure = solveErrorOf(err);
    if (kept === undefined || failure === undefined || failure.vertexDigest !== kept.vertex || options.signal.aborted) return;
    shell.starting?.({ stepName: failure.vertexName, error: failure });
    const request: ExecRequest = {
      ...kept.request,
      process: { ...kept.request.process, args: shell.args ?? DEFAULT_SHELL },
      terminal: shell.terminal,
    };
    try {
      shell.ended?.(await (await executor()).run(request, options));
    } catch (shellErr) {
      if (options.signal.aborted) {
        shell.ended?.(undefined);
        throw shellErr;
      }
      const { args } = request.process;
      shell.ended?.(shellErr instanceof Error ? shellErr : new ExecError(String(shellErr), { code: 'EXEC_START', argv: args }));
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    const kept = this.#kept;
    this.#kept = undefined;
    await kept?.[Symbol.asyncDispose]();
  }
}
