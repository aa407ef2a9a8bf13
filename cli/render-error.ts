import { asDiskFull, CancelledError, DockerfileError, errorLocation, ExecError, OutputClosedError, RegistryError, SolveError, TbuildError, type SourceLocation } from '../base/errors.js';

const CONTEXT_LINES = 2;

/** exitCodeFor maps an error to the process exit status: 2 usage/Dockerfile, 130 cancelled, else 1. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof CancelledError) return 130;
  if (isOutputClosed(err)) return 141;
  // A Dockerfile's image that no registry could be asked about is a failed build, not a bad Dockerfile.
  if (err instanceof DockerfileError && unreachableRegistry(err)) return 1;
  if (err instanceof TbuildError && (err.code === 'USAGE' || err instanceof DockerfileError)) return 2;
  return 1;
}

function unreachableRegistry(err: Error): boolean {
  for (let e: unknown = err.cause; e instanceof Error; e = e.cause) if (e instanceof RegistryError) return e.code === 'REGISTRY';
  return false;
}

/** isOutputClosed tells whether an error comes from a reader closing standard output (a pipe) before the end. */
export function isOutputClosed(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) if (e instanceof OutputClosedError) return true;
  return false;
}

/** renderError turns an error into the text shown to a user: snippet, message, causes, hint. `sources` maps file names to their text. */
export function renderError(thrown: unknown, options: { debug: boolean; sources?: ReadonlyMap<string, string> }): string {
  // A full disk is no bug, wherever the write that found it was.
  const err = asDiskFull(thrown);
  if (!(err instanceof TbuildError)) {
    const msg = err instanceof Error ? err.message : String(err);
    const stack = options.debug && err instanceof Error && err.stack ? `\n${err.stack}` : '';
    return `internal error: ${msg} (this is a bug; rerun with --debug)${stack}\n`;
  }
  const lines: string[] = [`ERROR: ${err.message}`];
  const location = errorLocation(err);
  if (location !== undefined) lines.push(...snippet(location, options.sources));
  const seen = new Set<string>([err.message]);
  for (let cause = err.cause; cause instanceof Error; cause = cause.cause) {
    if (!seen.has(cause.message) && !err.message.includes(cause.message)) lines.push(`caused by: ${cause.message}`);
    seen.add(cause.message);
  }
  const exec = findExecError(err);
  if (exec !== undefined && exec.outputTail.length > 0) {
    lines.push('last output:');
    for (const l of exec.outputTail) lines.push(`  ${l}`);
  }
  const hint = hintOf(err);
  if (hint !== undefined) lines.push(`hint: ${hint}`);
  if (options.debug && err.stack) lines.push(err.stack);
  return `${lines.join('\n')}\n`;
}

/** The error's own hint, else the nearest cause's: a step that failed on a registry keeps the registry's advice. */
function hintOf(err: TbuildError): string | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) if (e instanceof TbuildError && e.hint !== undefined) return e.hint;
  return undefined;
}

function findExecError(err: unknown): ExecError | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) if (e instanceof ExecError) return e;
  return undefined;
}

function snippet(location: SourceLocation, sources: ReadonlyMap<string, string> | undefined): string[] {
  const column = location.column === undefined ? '' : `:${location.column}`;
  const out = [` --> ${location.file}:${location.startLine}${column}`];
  const text = sources?.get(location.file);
  // A Dockerfile read from inside a fetched context is not known here: the location alone still helps.
  if (text === undefined) return out;
  const all = text.split('\n');
  const first = Math.max(1, location.startLine - CONTEXT_LINES);
  const last = Math.min(all.length, location.endLine + CONTEXT_LINES);
  const width = String(last).length;
  out.push(`${' '.repeat(width + 1)} |`);
  for (let n = first; n <= last; n++) {
    const mark = n >= location.startLine && n <= location.endLine ? '>>>' : '   ';
    out.push(` ${String(n).padStart(width)} | ${mark} ${all[n - 1] ?? ''}`);
  }
  out.push(`${' '.repeat(width + 1)} |`);
  return out;
}
