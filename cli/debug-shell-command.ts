import { constants } from 'node:os';
import { resolve } from 'node:path';
import { CancelledError, UsageError } from '../base/errors.js';
import type { DebugTarget, ExecResult } from '../controller/index.js';
import { defaultRoot, settingsFileOf, type CommandIO } from './command-io.js';
import { localBuilder } from './builder-select.js';
import { parseCommandArgs } from './command-line.js';
import { DEBUG_SHELL_OPTIONS } from './command-table.js';
import { debugShellOn, parseShellCommand, userTerminal } from './debug-flags.js';

/** DEBUG_SHELL_HELP is `tbuild debug shell --help`. */
export const DEBUG_SHELL_HELP = `Usage: tbuild debug shell [OPTIONS] IMAGE
       tbuild debug shell [OPTIONS] --step N [REF]

Open an interactive shell on this terminal over the files of an image of the local store (its environment, working
folder and user from its config), or of the result of step #N of a recorded build (the newest, or REF as
'tbuild history ls' names it; N as --progress=plain numbered the step). A RUN step's shell gets that RUN's
environment, working folder, user and network; a FROM, COPY, ADD or WORKDIR step's gets its stage's environment,
working folder and user as of that step (as a RUN right after it would; a FROM step's files are the base image's);
internal steps get a bare process (root, /, no environment). Changes are thrown away when the shell exits; the exit status is the shell's. A step that failed
has no result: use 'tbuild build --on-error=shell' for it.

Options:
      --step N              The step of a recorded build (#N of the plain progress output)
      --shell CMD           The command to run: a program or a JSON array (default: /bin/sh)
      --oci-runtime NAME    Run it with runc or crun instead of tbuild's sandbox
      --root DIR            State folder (default: $TBUILD_ROOT, /var/lib/tbuild as root)
      --builder NAME|ADDR   A remote builder: refused, as below (so are --tlscacert, --tlscert, --tlskey and
                            --token, which go with it)

The shell runs on this machine, over the local store: with --builder (or TBUILD_BUILDER, TBUILD_HOST or a builder
in use, unless --root is given) it is refused before anything starts, as a builder (tbuild serve) opens no shell for
its clients. Run it on the builder's machine with --root set to the folder tbuild serve --root names, or build
locally with 'tbuild build --on-error=shell'.
`;

/** parseStep reads --step: the #N of plain progress, with or without the '#'. */
function parseStep(text: string): number {
  const n = Number(text.replace(/^#/, ''));
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`Cannot use --step ${text}: expected a step number such as 3 (the #3 of --progress=plain)`);
  return n;
}

/** debugShellCommand runs `tbuild debug shell` and returns the shell's exit status. */
export async function debugShellCommand(args: readonly string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseCommandArgs('debug shell', args, DEBUG_SHELL_OPTIONS);
  if (values.help === true) {
    io.stdout.write(DEBUG_SHELL_HELP);
    return 0;
  }
  // Checked first: a builder's records and results are on its machine, and the protocol has no terminal to run a shell on.
  if ((await localBuilder(values, io.env)) !== undefined) {
    throw new UsageError('Cannot open a debug shell on a remote builder: the shell runs over the local store only', {
      hint: "run 'tbuild debug shell --root DIR' on the builder's machine (DIR as tbuild serve --root names it), or build locally with --on-error=shell",
    });
  }
  if (positionals.length > 1) throw new UsageError(`Cannot open a shell in ${positionals.length} targets: name one image, or one build with --step`);
  const [operand] = positionals;
  let target: DebugTarget;
  if (values.step !== undefined) target = { kind: 'step', ref: operand, step: parseStep(values.step) };
  else if (operand !== undefined) target = { kind: 'image', image: operand };
  else throw new UsageError('Cannot open a shell: name an image, or a build step with --step N', { hint: 'tbuild debug shell busybox, or tbuild debug shell --step 3' });
  const runtime = values['oci-runtime'];
  if (runtime !== undefined && runtime !== 'runc' && runtime !== 'crun') throw new UsageError(`Cannot use --oci-runtime=${runtime}: expected runc or crun`);
  const shellArgs = values.shell === undefined ? undefined : parseShellCommand(values.shell);
  const terminal = userTerminal(io, 'tbuild debug shell');
  const abort = new AbortController();
  using _interrupt = io.onInterrupt(() => abort.abort(new CancelledError('Debug shell cancelled')));
  const settingsFile = await settingsFileOf(io.env, undefined);
  await using controller = await io.openController({
    root: values.root === undefined ? defaultRoot(io.env) : resolve(io.cwd, values.root),
    ...(settingsFile === undefined ? {} : { settingsFile }),
    ...(runtime === undefined ? {} : { ociRuntime: runtime }),
  });
  let outcome: ExecResult | undefined;
  const shell = debugShellOn(terminal, { ...(shellArgs === undefined ? {} : { args: shellArgs }), before: () => undefined, stderr: io.stderr });
  try {
    outcome = await controller.debugShell(target, shell, { signal: abort.signal });
    // A shell killed by a signal exits as a shell reports it: 128 + the signal's number.
    const signal = outcome.signal === null ? undefined : (constants.signals as Record<string, number | undefined>)[outcome.signal];
    return outcome.exitCode ?? 128 + (signal ?? 0);
  } finally {
    // Only a shell that started has the terminal in raw mode; ended puts it back.
    shell.ended?.(outcome);
  }
}
