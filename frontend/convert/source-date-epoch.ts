import { DockerfileError, type SourceLocation } from '../../base/errors.js';
import type { GitSource, HttpSource } from '../../solver/graph/index.js';
import type { AddInstruction, ArgInstruction, Stage } from '../instructions/index.js';
import type { ShellLexer } from '../shell/index.js';
import { classifyAddSource, gitSourceOf, httpSourceOf } from './add-source.js';
import { runLexer } from './expand.js';
import { namedContextSource } from './context-source.js';
import type { CompileOptions } from './types.js';

const KEY = 'SOURCE_DATE_EPOCH';

/** formatEpoch writes seconds since the epoch in RFC 3339 as Go (and so BuildKit) does: no fraction for whole seconds. */
export function formatEpoch(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.000Z$/, 'Z');
}

/** SourceDateEpochInput is what resolving SOURCE_DATE_EPOCH reads: the args, the stages and the compile options. */
export interface SourceDateEpochInput {
  readonly buildArgs: ReadonlyMap<string, string>;
  /** The global args (ARGs before the first FROM and the built-in ones), defaults expanded. */
  readonly globalArgs: ReadonlyMap<string, string>;
  readonly stages: readonly Stage[];
  readonly lexer: ShellLexer;
  readonly options: Pick<CompileOptions, 'namedContexts' | 'resolveSourceDate' | 'signal'>;
}

/** ResolvedSourceDateEpoch is the build's epoch, and the args with SOURCE_DATE_EPOCH set to it in seconds (or removed). */
export interface ResolvedSourceDateEpoch {
  readonly epoch: number | undefined;
  readonly buildArgs: ReadonlyMap<string, string>;
  readonly globalArgs: ReadonlyMap<string, string>;
}

/**
 * resolveSourceDateEpoch reads SOURCE_DATE_EPOCH as BuildKit's Dockerfile frontend does: a --build-arg (even empty)
 * wins, else a non-empty default of a global ARG. The value is whole seconds since 1970; `context` dates the build by
 * its context (a git commit, an HTTP download; a local folder gives none); another value names a named context or a
 * source-only stage (FROM scratch, ARGs and one ADD from a URL or a git repository) dated alike. The args then hold
 * the resolved seconds, so that `ARG SOURCE_DATE_EPOCH` in a stage reads them, or lose it when nothing gave a date.
 */
export async function resolveSourceDateEpoch(input: SourceDateEpochInput): Promise<ResolvedSourceDateEpoch> {
  const raw = input.buildArgs.get(KEY) ?? (input.globalArgs.get(KEY) || undefined);
  if (raw === undefined) return { epoch: undefined, buildArgs: input.buildArgs, globalArgs: input.globalArgs };
  const epoch = await epochOf(raw, input);
  return { epoch, buildArgs: withEpoch(input.buildArgs, epoch), globalArgs: withEpoch(input.globalArgs, epoch) };
}

function withEpoch(args: ReadonlyMap<string, string>, epoch: number | undefined): ReadonlyMap<string, string> {
  if (!args.has(KEY)) return args;
  const out = new Map(args);
  if (epoch === undefined) out.delete(KEY);
  else out.set(KEY, String(epoch));
  return out;
}

async function epochOf(raw: string, input: SourceDateEpochInput): Promise<number | undefined> {
  if (raw === '') return undefined;
  if (/^\d+$/.test(raw) && Number.isSafeInteger(Number(raw))) return Number(raw);
  const { resolveSourceDate, signal } = input.options;
  if (raw === 'context') return resolveSourceDate?.({ kind: 'context' }, { signal });
  const named = input.options.namedContexts?.get(raw);
  if (named !== undefined) {
    const source = namedContextSource(named);
    return source === undefined ? undefined : resolveSourceDate?.({ kind: 'source', source }, { signal });
  }
  const stage = input.stages.find((s) => s.from.stageName?.toLowerCase() === raw.toLowerCase());
  if (stage === undefined) throw new DockerfileError(`invalid SOURCE_DATE_EPOCH: ${raw}`);
  const env = new Map(input.globalArgs);
  env.delete(KEY);
  const source = stageSource(stage, env, input);
  return resolveSourceDate?.({ kind: 'source', source }, { signal });
}

/**
 * stageSource checks that a stage SOURCE_DATE_EPOCH names holds a source only, as BuildKit requires, and returns the
 * source of its ADD. Its words are expanded with the global args and its own ARGs.
 */
function stageSource(stage: Stage, env: Map<string, string>, input: SourceDateEpochInput): HttpSource | GitSource {
  const location = stage.from.location;
  const fail = (message: string): DockerfileError => new DockerfileError(message, { location });
  if (runLexer(input.lexer, stage.from.baseName, env, location).result !== 'scratch') throw fail('SOURCE_DATE_EPOCH stage must use FROM scratch');
  let source: HttpSource | GitSource | undefined;
  for (const i of stage.instructions) {
    if (i.kind === 'arg') applyArgs(i, env, input, location);
    else if (i.kind === 'add') {
      if (source !== undefined) throw fail('SOURCE_DATE_EPOCH stage must contain exactly one remote ADD');
      source = addSource(i, env, input.lexer, location);
    } else throw fail(`SOURCE_DATE_EPOCH stage does not meet source-only requirements: unsupported ${i.keyword.toLowerCase()} instruction`);
  }
  if (source === undefined) throw fail('SOURCE_DATE_EPOCH stage must contain exactly one remote ADD');
  return source;
}

function applyArgs(i: ArgInstruction, env: Map<string, string>, input: SourceDateEpochInput, location: SourceLocation): void {
  for (const arg of i.args) {
    const given = input.buildArgs.get(arg.key);
    if (given !== undefined) env.set(arg.key, given);
    else if (arg.value !== undefined) env.set(arg.key, runLexer(input.lexer, arg.value, env, location).result);
  }
}

/** addSource is the source of the stage's ADD; as in BuildKit, its errors point at the stage. */
function addSource(i: AddInstruction, env: ReadonlyMap<string, string>, lexer: ShellLexer, location: SourceLocation): HttpSource | GitSource {
  const [first, ...rest] = i.sources;
  if (first?.type !== 'path' || rest.length > 0) throw new DockerfileError('SOURCE_DATE_EPOCH stage must contain exactly one remote ADD source', { location });
  const expand = (word: string): string => runLexer(lexer, word, env, location).result;
  const checksum = i.checksum === undefined ? undefined : expand(i.checksum);
  const kind = classifyAddSource(expand(first.path));
  switch (kind.type) {
    case 'http':
      return httpSourceOf(kind.url, checksum, location);
    case 'git':
      return gitSourceOf(kind.git, { keepGitDir: i.keepGitDir, checksum }, location);
    case 'local':
      throw new DockerfileError('SOURCE_DATE_EPOCH stage source must be a single HTTP(S) or Git ADD', { location });
  }
}
