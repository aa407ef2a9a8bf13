import { once } from 'node:events';
import { UsageError } from '../base/errors.js';
import { parseDuration } from '../base/units.js';
import type { CommandIO } from './command-io.js';
import { parseCommandArgs, splitSubcommand } from './command-line.js';
import { HISTORY_OPTIONS, type HistorySubcommand } from './history-options.js';
import { matchRecords } from './history-filter.js';
import { openHistorySource, type OpenHistory } from './history-source.js';
import { traceFormatOf, writeTrace } from './history-trace-command.js';
import { listJson, renderExplanations, renderInspect, renderList } from './history-render.js';

const HISTORY_HELP = `Usage: tbuild history COMMAND [OPTIONS]

Every build (finished, failed, cancelled or interrupted) leaves a record in the store: its request, each step's
status, duration, cache hit and resources, warnings, the error and where it happened, and the full logs. REF is a
build id as 'history ls' prints it (a unique prefix is enough); without one, the last build.

Commands:
  ls        List build records
  inspect   Show a build's request, steps, warnings and error
  logs      Print a build's logs (or one step's) exactly as the steps wrote them
  explain   Say why each step that ran did not come from the cache
  trace     Write a build's steps on a time axis: an HTML page, a Chrome trace or OpenTelemetry spans
  rm        Remove build records
  prune     Remove old build records

Records are kept under the settings file's [history] table (max-entries, max-age, max-storage; enabled = false
records nothing). Run 'tbuild history COMMAND --help' for a command's options.

With --builder (or TBUILD_BUILDER, TBUILD_HOST or the builder in use), the commands read the records a builder
(tbuild serve) keeps of this client's builds.
`;

/** REMOTE_OPTIONS ends each history command's help: how to read a remote builder's records instead. */
const REMOTE_OPTIONS = `
With --builder NAME|ADDR [--tlscacert FILE --tlscert FILE --tlskey FILE] [--token TOKEN] (or TBUILD_BUILDER,
TBUILD_HOST or the builder in use), it works on the records a remote builder (tbuild serve) keeps of this client's
builds (see tbuild build --help)
`;

/** HISTORY_HELP_OF is each history command's help. */
const HISTORY_HELP_OF: Record<HistorySubcommand, string> = {
  ls: `Usage: tbuild history ls [--filter KEY=VALUE]... [--format table|json] [--root DIR | --builder NAME|ADDR]

List build records, newest first.

Options:
      --filter FILTER   Keep records that match: status=completed|error|canceled|interrupted|running,
                        ref=PREFIX, target=NAME (= or !=); startedAt, completedAt (<, <=, >, >= a duration
                        ago such as 1h, or an RFC 3339 time); duration (<, <=, >, >= a duration) (repeatable)
      --format FORMAT   table (default) or json (one object per line)
${REMOTE_OPTIONS}`,
  inspect: `Usage: tbuild history inspect [REF] [--format text|json] [--root DIR | --builder NAME|ADDR]

Show a build's request (Dockerfile, target, platforms, build args, outputs), each step's status, duration,
cache hit, memory peak and CPU time, its warnings and its error with the Dockerfile location.

Options:
      --format FORMAT   text (default) or json (the whole record)
${REMOTE_OPTIONS}`,
  logs: `Usage: tbuild history logs [REF] [--step N] [--root DIR | --builder NAME|ADDR]

Print the output of a build's steps exactly as they wrote it (never clipped): with --step, that step's bytes
only; otherwise each chunk prefixed by its step as '#N '.

Options:
      --step N          Print the output of step N only (N as '#N' in the plain progress output)
${REMOTE_OPTIONS}`,
  explain: `Usage: tbuild history explain [REF] [--step N] [--root DIR | --builder NAME|ADDR]

Say why each step that ran did not come from the cache, by comparing its cache key's inputs with those of the
same step (same Dockerfile lines and target) in the nearest earlier build: a changed file with its digests, a
build arg, a base image resolved to another digest, the step before it having run, --no-cache, a pruned record.

Options:
      --step N          Explain step N only
${REMOTE_OPTIONS}`,
  trace: `Usage: tbuild history trace [REF] [-o FILE] [--format html|chrome|otlp] [--root DIR | --builder NAME|ADDR]

Write a finished build's trace: each step with its start and duration, in lanes that show which steps ran at
once, cache hits marked, inside the build's own span.

Options:
  -o, --output FILE     Write to FILE instead of standard output ('-')
      --format FORMAT   html: one self-contained page (no network) drawing the steps as bars, a step's output
                        shown on click (the default when FILE ends in .html);
                        chrome: Chrome trace-event JSON, as chrome://tracing and Perfetto load it (the default
                        otherwise);
                        otlp: OpenTelemetry OTLP/JSON spans, the build's span and one child span per step
${REMOTE_OPTIONS}`,
  rm: `Usage: tbuild history rm [--all] REF... [--root DIR | --builder NAME|ADDR]

Remove build records and their logs.

Options:
      --all             Remove every finished record
${REMOTE_OPTIONS}`,
  prune: `Usage: tbuild history prune [--keep N] [--keep-duration DURATION] [--root DIR | --builder NAME|ADDR]

Remove finished build records: those beyond the newest N, or older than DURATION (such as 24h); without
either, every finished record.

Options:
      --keep N                   Keep the newest N records
      --keep-duration DURATION   Keep records younger than DURATION
${REMOTE_OPTIONS}`,
};

/** historyCommand runs `tbuild history ls|inspect|logs|explain|rm|prune`. */
export async function historyCommand(args: readonly string[], io: CommandIO, open: OpenHistory): Promise<number> {
  const split = splitSubcommand('history', args, isSubcommand);
  if (split === undefined) {
    io.stdout.write(HISTORY_HELP);
    return args.includes('--help') || args.includes('-h') ? 0 : 2;
  }
  const { sub, rest } = split;
  const { values, positionals } = parseCommandArgs(`history ${sub}`, rest, HISTORY_OPTIONS[sub]);
  if (values.help === true) {
    io.stdout.write(HISTORY_HELP_OF[sub]);
    return 0;
  }
  const v: Readonly<Record<string, unknown>> = values;
  const str = (name: string): string | undefined => (typeof v[name] === 'string' ? v[name] : undefined);
  const where = { root: str('root'), builder: str('builder'), tlscacert: str('tlscacert'), tlscert: str('tlscert'), tlskey: str('tlskey'), token: str('token') };
  switch (sub) {
    case 'ls': {
      noOperands(sub, positionals);
      const format = formatOf(v['format'], ['table', 'json']);
      const filters = Array.isArray(v['filter']) ? v['filter'].map(String) : [];
      const match = matchRecords(filters);
      await using h = await openHistorySource(where, io, open);
      const records = (await h.list()).filter(match);
      io.stdout.write(format === 'json' ? records.map((r) => `${JSON.stringify(listJson(r))}\n`).join('') : renderList(records));
      return 0;
    }
    case 'inspect': {
      const format = formatOf(v['format'], ['text', 'json']);
      await using h = await openHistorySource(where, io, open);
      const record = await h.get(oneRef(sub, positionals));
      io.stdout.write(format === 'json' ? `${JSON.stringify(record, null, 2)}\n` : renderInspect(record));
      return 0;
    }
    case 'logs': {
      const step = stepOf(v['step']);
      await using h = await openHistorySource(where, io, open);
      const record = await h.get(oneRef(sub, positionals));
      const abort = new AbortController();
      using _interrupt = io.onInterrupt(() => abort.abort());
      const frames = await h.logs(record, step, abort.signal);
      await writeAll(io, step === undefined ? frames.flatMap((f) => [Buffer.from(`#${f.step} `), f.data]) : frames.map((f) => f.data));
      return 0;
    }
    case 'explain': {
      const step = stepOf(v['step']);
      await using h = await openHistorySource(where, io, open);
      const record = await h.get(oneRef(sub, positionals));
      io.stdout.write(renderExplanations(await h.explain(record, step)));
      return 0;
    }
    case 'trace': {
      const output = str('output');
      const format = traceFormatOf(str('format'), output);
      await using h = await openHistorySource(where, io, open);
      const record = await h.get(oneRef(sub, positionals));
      const abort = new AbortController();
      using _interrupt = io.onInterrupt(() => abort.abort());
      await writeTrace(h, record, { format, output, io, signal: abort.signal });
      return 0;
    }
    case 'rm': {
      const all = v['all'] === true;
      if (all === positionals.length > 0) throw new UsageError('Cannot remove build records: name records or give --all (not both)', { hint: 'tbuild history rm REF... | --all' });
      await using h = await openHistorySource(where, io, open);
      const refs = all ? (await h.list()).filter((r) => r.status !== 'running').map((r) => r.ref) : positionals;
      for (const ref of await h.remove(refs)) io.stdout.write(`${ref}\n`);
      return 0;
    }
    case 'prune': {
      noOperands(sub, positionals);
      const keep = v['keep'] === undefined ? undefined : count(String(v['keep']), '--keep');
      const keepDurationMs = typeof v['keep-duration'] === 'string' ? parseDuration(v['keep-duration']) : undefined;
      await using h = await openHistorySource(where, io, open);
      const removed = await h.prune({ ...(keep === undefined ? {} : { keep }), ...(keepDurationMs === undefined ? {} : { keepDurationMs }) });
      io.stdout.write(`Removed ${removed.length} build record${removed.length === 1 ? '' : 's'}\n`);
      return 0;
    }
  }
}

function isSubcommand(s: string): s is HistorySubcommand {
  return Object.hasOwn(HISTORY_OPTIONS, s);
}

function noOperands(sub: string, positionals: readonly string[]): void {
  if (positionals.length > 0) throw new UsageError(`Cannot run tbuild history ${sub}: unexpected argument "${positionals[0] ?? ''}"`);
}

function oneRef(sub: string, positionals: readonly string[]): string | undefined {
  if (positionals.length > 1) throw new UsageError(`Cannot run tbuild history ${sub}: expected at most one REF`, { hint: `tbuild history ${sub} [REF]` });
  return positionals[0];
}

function formatOf<F extends string>(value: unknown, allowed: readonly [F, ...F[]]): F {
  if (value === undefined) return allowed[0];
  const found = allowed.find((f) => f === value);
  if (found === undefined) throw new UsageError(`Cannot use --format ${String(value)}: expected ${allowed.join(' or ')}`);
  return found;
}

function stepOf(value: unknown): number | undefined {
  return value === undefined ? undefined : count(String(value).replace(/^#/, ''), '--step', 1);
}

function count(text: string, flag: string, min = 0): number {
  const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`Cannot use ${flag} ${text}: expected a whole number${min > 0 ? ` from ${min}` : ''}`);
  return n;
}

/** writeAll writes chunks to standard output, waiting when it is full (a 10 MB log is written as it drains). */
async function writeAll(io: CommandIO, chunks: readonly Buffer[]): Promise<void> {
  for (const c of chunks) {
    if (!io.stdout.write(c)) await once(io.stdout, 'drain');
  }
}
