import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SnapshotError } from '../../base/errors.js';

/** filterThroughProcess streams `input` through a child process's stdin and yields its stdout. */
export async function* filterThroughProcess(
  command: string,
  args: readonly string[],
  input: AsyncIterable<Buffer>,
  options: { signal: AbortSignal },
): AsyncGenerator<Buffer> {
  options.signal.throwIfAborted();
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], signal: options.signal });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    stderr = (stderr + text).slice(-2000);
  });
  // Settle both promises into values at once so a failure is never an unhandled rejection.
  const exited = new Promise<{ code: number | null; error?: unknown }>((resolve) => {
    child.once('error', (error: unknown) => resolve({ code: null, error }));
    child.once('close', (code: number | null) => resolve({ code }));
  });
  // A failure of the input is rethrown as it is (it may be the build's cancellation).
  const fed = pipeline(Readable.from(input), child.stdin).then(
    () => undefined,
    (error: unknown) => (error instanceof Error ? error : new SnapshotError(`Cannot feed "${command}": ${String(error)}`)),
  );
  try {
    for await (const chunk of child.stdout) yield chunk as Buffer;
    const status = await exited;
    options.signal.throwIfAborted();
    if (status.error !== undefined) throw new SnapshotError(`Cannot run "${command}"`, { cause: status.error });
    const feedError = await fed;
    if (feedError !== undefined) throw feedError;
    if (status.code !== 0) {
      throw new SnapshotError(`Cannot run "${command} ${args.join(' ')}": exit status ${String(status.code)}: ${stderr.trim()}`);
    }
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.all([exited, fed]);
  }
}
