import { ReadStream, WriteStream } from 'node:tty';
import { UsageError } from '../base/errors.js';
import type { DebugShell, DebugShellStart, ExecResult } from '../controller/index.js';
import type { CommandIO, TerminalStream } from './command-io.js';

/** OnError is what `--on-error` asks for when a RUN fails: a shell in its container (`--shell` names the command). */
export interface OnError {
  readonly shell: readonly string[] | undefined;
}

/** parseShellCommand reads `--shell`: a program (run from the image's PATH unless it has a slash) or a JSON array. */
export function parseShellCommand(text: string): readonly string[] {
  if (!text.startsWith('[')) {
    if (text.trim() === '') throw new UsageError('Cannot use --shell "": expected a command');
    return [text];
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`Cannot use --shell ${text}: expected a command or a JSON array of strings`, { cause: err });
  }
  if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((a): a is string => typeof a === 'string') || parsed[0] === '') {
    throw new UsageError(`Cannot use --shell ${text}: expected a command or a non-empty JSON array of strings`);
  }
  return parsed;
}

/** parseOnError reads `--on-error` and `--shell`; `--shell` alone is refused rather than ignored. */
export function parseOnError(onError: string | undefined, shell: string | undefined): OnError | undefined {
  if (onError === undefined) {
    if (shell !== undefined) throw new UsageError('Cannot use --shell without --on-error=shell', { hint: 'tbuild build --on-error=shell --shell CMD PATH' });
    return undefined;
  }
  if (onError !== 'shell') throw new UsageError(`Cannot use --on-error=${onError}: expected shell`);
  return { shell: shell === undefined ? undefined : parseShellCommand(shell) };
}

/** UserTerminal is the command's own terminal: stdin to read keys from in raw mode, stdout to write to and size. */
export interface UserTerminal {
  readonly input: ReadStream;
  readonly output: WriteStream;
}

/** userTerminal returns the command's terminal, or refuses: a shell needs a terminal on both standard input and output. */
export function userTerminal(io: Pick<CommandIO, 'stdin' | 'stdout'>, flag: string): UserTerminal {
  const { stdin, stdout } = io;
  if (!(stdin instanceof ReadStream) || !stdin.isTTY || !(stdout instanceof WriteStream) || !stdout.isTTY) {
    throw new UsageError(`Cannot use ${flag}: standard input and output must be a terminal`, {
      hint: 'run it from an interactive terminal (or `script -qc "tbuild …" /dev/null`), without pipes or redirections',
    });
  }
  return { input: stdin, output: stdout };
}

/**
 * debugShellOn attaches a debug shell to the user's terminal: raw mode while it runs (Ctrl-C and the other keys go to
 * the shell, not to tbuild), its size and resizes passed on. `before` runs first (to stop drawing progress);
 * then a line says where the shell opens.
 */
export function debugShellOn(terminal: UserTerminal, o: { args?: readonly string[]; before: (start: DebugShellStart) => void; stderr: TerminalStream }): DebugShell {
  const { input, output } = terminal;
  let raw = false;
  const restore = (): void => {
    if (!raw) return;
    raw = false;
    input.setRawMode(false);
    input.pause();
  };
  return {
    ...(o.args === undefined ? {} : { args: o.args }),
    terminal: {
      input,
      output,
      size: () => ({ columns: output.columns, rows: output.rows }),
      onResize: (listener) => {
        const resized = (): void => listener({ columns: output.columns, rows: output.rows });
        output.on('resize', resized);
        return () => void output.off('resize', resized);
      },
    },
    starting: (start) => {
      o.before(start);
      o.stderr.write(
        start.error === undefined
          ? `Opening a shell in ${start.stepName}; changes are thrown away when it exits.\n`
          : `\nerror: ${start.error.message}\nOpening a shell in the failed step "${start.stepName}"; exit the shell to end the build.\n`,
      );
      input.setRawMode(true);
      raw = true;
    },
    ended: (outcome: ExecResult | Error | undefined) => {
      restore();
      if (outcome instanceof Error) o.stderr.write(`tbuild: cannot run the debug shell: ${outcome.message}\n`);
    },
  };
}
