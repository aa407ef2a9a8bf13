import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { InternalError } from '../base/errors.js';
import { killPid } from './child-process.js';
import { openExecStdio } from './terminal.js';
import type { ExecRequest } from './types.js';

/** HelperOutcome is the final line the sandbox helper reports on its result fd. */
export type HelperOutcome =
  | { readonly type: 'exited'; readonly exitCode: number }
  | { readonly type: 'signaled'; readonly signal: string }
  | { readonly type: 'error'; readonly stage: string; readonly message: string; readonly reason?: HelperErrorReason };

/** HelperErrorReason names a cause the helper recognised: proc-masked, the kernel refused a new proc mount. */
export type HelperErrorReason = 'proc-masked';

const RESULT_FD = 3;

type HelperLine = { readonly started?: number; readonly outcome?: HelperOutcome };

/** parseLine reads one result line; a line the helper should never write is tbuild's own bug, returned as one. */
function parseLine(line: string): HelperLine | InternalError {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    return new InternalError(`Bad sandbox helper line ${JSON.stringify(line.slice(0, 200))}: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null) return new InternalError(`Bad sandbox helper line: ${line.slice(0, 200)}`);
  const v = new Map<string, unknown>(Object.entries(value));
  switch (v.get('type')) {
    case 'started':
      return { started: Number(v.get('pid')) };
    case 'exited':
      return { outcome: { type: 'exited', exitCode: Number(v.get('exitCode')) } };
    case 'signaled':
      return { outcome: { type: 'signaled', signal: String(v.get('signal')) } };
    case 'error': {
      const reason = v.get('reason') === 'proc-masked' ? { reason: 'proc-masked' as const } : {};
      return { outcome: { type: 'error', stage: String(v.get('stage')), message: String(v.get('message')), ...reason } };
    }
    default:
      return new InternalError(`Bad sandbox helper line: ${line.slice(0, 200)}`);
  }
}

/**
 * runHelper runs the sandbox helper on a bundle and returns its outcome. On abort it SIGKILLs the container init
 * (the PID namespace takes the rest down; without one, the helper kills what the init leaves), waits for the helper
 * to finish and rejects with `signal.reason`.
 * A malformed result line kills the container and fails this run only: it never escapes as an uncaught exception.
 */
export async function runHelper(
  helper: string,
  bundleDir: string,
  request: Pick<ExecRequest, 'onOutput' | 'terminal'>,
  options: { signal: AbortSignal; cgroupProcs?: readonly string[] },
): Promise<HelperOutcome | undefined> {
  const { signal } = options;
  signal.throwIfAborted();
  const args = ['--bundle', bundleDir, '--result-fd', String(RESULT_FD), '--parent-pid', String(process.pid)];
  for (const file of options.cgroupProcs ?? []) args.push('--cgroup-procs', file);
  await using stdio = await openExecStdio(request);
  // The helper's stdio become the container process's (pipes, or the pty of a terminal), and a pipe for the result lines on RESULT_FD.
  const child = spawn(helper, args, { stdio: [...stdio.childFds, 'pipe'] });
  const closed = stdio.waitForChild(child);
  let initPid: number | undefined;
  let outcome: HelperOutcome | undefined;
  const kill = (): void => {
    // Before the init is known, killing the helper is enough: the init has a parent-death signal.
    if (initPid !== undefined && outcome === undefined) killPid(initPid);
    else if (child.pid !== undefined) killPid(child.pid);
  };
  const results = child.stdio[RESULT_FD];
  if (!(results instanceof Readable)) throw new InternalError('Sandbox helper result pipe is missing');
  const lines = createInterface({ input: results, crlfDelay: Infinity });
  let malformed: InternalError | undefined;
  lines.on('line', (line) => {
    const parsed = parseLine(line);
    if (parsed instanceof InternalError) {
      malformed ??= parsed;
      kill();
      return;
    }
    if (parsed.started !== undefined) initPid = parsed.started;
    if (parsed.outcome !== undefined) outcome = parsed.outcome;
    if (signal.aborted && outcome === undefined) kill();
  });
  signal.addEventListener('abort', kill, { once: true });
  try {
    await closed;
  } finally {
    signal.removeEventListener('abort', kill);
    lines.close();
  }
  signal.throwIfAborted();
  if (malformed !== undefined) throw malformed;
  return outcome;
}
