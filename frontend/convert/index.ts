import { createPacer } from '../../base/async.js';
import { DockerfileError, type SourceLocation } from '../../base/errors.js';
import { formatPlatform, type Platform } from '../../base/oci.js';
import { normalizePlatform } from '../../base/platform.js';
import type { ProxyEnv } from '../../solver/graph/index.js';
import { groupStages, parseInstruction, parseStages, type ArgInstruction, type Instruction, type ParsedStages, type Stage } from '../instructions/index.js';
import { parseDockerfile, type ParseResult } from '../parser/index.js';
import { ShellLexer } from '../shell/index.js';
import { CheckScope, FindingsError, parseCheckConfig, WarningSink } from './checks.js';
import type { CompileContext } from './context.js';
import { checkFroms, checkInstructionCasing, checkParsed, checkStageNames } from './lint-stages.js';
import { runLexer } from './expand.js';
import { GraphBuilder } from './graph-builder.js';
import { finalizeImage } from './image-state.js';
import { builtinPlatformArgs } from './platform.js';
import { resolveSourceDateEpoch } from './source-date-epoch.js';
import { buildStage } from './stage.js';
import type { StageState } from './stage-state.js';
import type { BuildDefinition, CompileOptions, ResolvedImageConfig } from './types.js';
import { targetStageIndex } from './target.js';

export type { BuildDefinition, BuildWarning, CompileOptions, ImageConfigResolver, NamedContext, ResolvedImageConfig, RunSettings, SourceDateResolver, SourceDateSubject } from './types.js';
export { FindingsError } from './checks.js';

const PROXY_KEYS: readonly (readonly [string, keyof ProxyEnv])[] = [
  ['http_proxy', 'httpProxy'],
  ['https_proxy', 'httpsProxy'],
  ['ftp_proxy', 'ftpProxy'],
  ['no_proxy', 'noProxy'],
  ['all_proxy', 'allProxy'],
];

function proxyEnvFrom(buildArgs: ReadonlyMap<string, string>): ProxyEnv | undefined {
  const out: { -readonly [K in keyof ProxyEnv]: string } = {};
  for (const [k, v] of [...buildArgs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const field = PROXY_KEYS.find(([name]) => name === k.toLowerCase())?.[1];
    if (field !== undefined) out[field] = v;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

function globalArgs(
  lexer: ShellLexer,
  metaArgs: readonly ArgInstruction[],
  stages: readonly Stage[],
  options: CompileOptions,
  buildArgs: ReadonlyMap<string, string> = options.buildArgs,
): Map<string, string> {
  const args = builtinPlatformArgs(options.targetPlatform, options.buildPlatform);
  // TARGETSTAGE names the stage asked for: --target as given, else the last stage's name, else "default".
  args.set('TARGETSTAGE', options.target || stages[stages.length - 1]?.from.stageName?.toLowerCase() || 'default');
  // A --build-arg overrides a built-in arg, as in BuildKit.
  for (const key of args.keys()) {
    const given = buildArgs.get(key);
    if (given !== undefined) args.set(key, given);
  }
  for (const cmd of metaArgs) {
    for (const arg of cmd.args) {
      const given = buildArgs.get(arg.key);
      const value = given ?? (arg.value === undefined ? undefined : runLexer(lexer, arg.value, args, cmd.location).result);
      if (value !== undefined) args.set(arg.key, value);
    }
  }
  return args;
}

/**
 * parseInstructions reads the instructions and runs the checks BuildKit runs as it parses them. When one fails to
 * parse, the findings of those before it are kept and the error reads as BuildKit's: `dockerfile parse error on
 * line N: …`.
 */
async function parseInstructions(parsed: ParseResult, file: string, warnings: WarningSink, pace: () => Promise<void>): Promise<ParsedStages> {
  try {
    const instructions: Instruction[] = [];
    for (const node of parsed.ast.children) {
      await pace();
      instructions.push(parseInstruction(node, file));
    }
    const result = groupStages(instructions);
    checkParsed(parsed.ast.children, result, warnings);
    return result;
  } catch (err) {
    const line = err instanceof DockerfileError ? err.location?.startLine : undefined;
    if (!(err instanceof DockerfileError) || line === undefined) throw err;
    const before = parsed.ast.children.filter((n) => n.endLine < line);
    checkParsed(before, parseStages({ ...parsed.ast, children: before }, file), warnings);
    throw new DockerfileError(`dockerfile parse error on line ${line}: ${err.message}`, {
      code: err.code,
      cause: err,
      ...(err.location === undefined ? {} : { location: err.location }),
      ...(err.hint === undefined ? {} : { hint: err.hint }),
    });
  }
}

/** defaultGlobalArgs are the global args as if no --build-arg were given; undefined when their defaults fail to expand. */
function defaultGlobalArgs(lexer: ShellLexer, metaArgs: readonly ArgInstruction[], stages: readonly Stage[], options: CompileOptions): Map<string, string> | undefined {
  try {
    return globalArgs(lexer, metaArgs, stages, options, new Map());
  } catch (err) {
    // A default such as ${FOO:?error} fails only when no --build-arg sets FOO: the build says so if it must.
    if (err instanceof DockerfileError) return undefined;
    throw err;
  }
}

/** compileDockerfile turns a Dockerfile into the build graph of the target stage and the image config it yields. */
export async function compileDockerfile(text: string, given: CompileOptions): Promise<BuildDefinition> {
  given.signal.throwIfAborted();
  // Platforms are normalized as BuildKit's: linux/arm is linux/arm/v7 and linux/arm64/v8 is linux/arm64, in args and image config alike.
  const options = { ...given, targetPlatform: normalizePlatform(given.targetPlatform), buildPlatform: normalizePlatform(given.buildPlatform) };
  const parsed = parseDockerfile(text, { file: options.file });
  const checks = parseCheckConfig(options.buildArgs.get('BUILDKIT_DOCKERFILE_CHECK') ?? parsed.directives['check']);
  const warnings = new WarningSink(new CheckScope(checks, parsed.ast.children));
  for (const w of parsed.warnings) warnings.add('NoEmptyContinuation', 'Empty continuation line', w.location);
  try {
    return await compileChecked(parsed, options, warnings);
  } catch (err) {
    if (err instanceof DockerfileError && !(err instanceof FindingsError) && warnings.list.length > 0) throw new FindingsError(err, warnings.list);
    throw err;
  }
}

async function compileChecked(parsed: ParseResult, options: CompileOptions, warnings: WarningSink): Promise<BuildDefinition> {
  // The conversion is synchronous work in small steps: pace gives Ctrl-C and a cancelled request their turn.
  const pace = createPacer(options.signal);
  await pace();
  const { metaArgs, stages } = await parseInstructions(parsed, options.file, warnings, pace);
  if (stages.length === 0) throw new DockerfileError('dockerfile contains no stages to build', { location: { file: options.file, startLine: 1, endLine: 1 } });
  await pace();
  checkStageNames(stages, warnings);
  checkInstructionCasing(stages, warnings);
  await pace();
  const lexer = new ShellLexer({ escapeToken: parsed.escapeToken });
  const declared = globalArgs(lexer, metaArgs, stages, options);
  checkFroms(stages, lexer, { args: declared, defaults: defaultGlobalArgs(lexer, metaArgs, stages, options), metaArgs }, warnings);
  const epoch = await resolveSourceDateEpoch({ buildArgs: options.buildArgs, globalArgs: declared, stages, lexer, options });
  const args = epoch.globalArgs;
  const resolvedOptions = { ...options, buildArgs: epoch.buildArgs };
  const compiled = new Map<number, Promise<StageState>>();
  const resolved = new Map<string, Promise<ResolvedImageConfig>>();
  const byName = new Map<string, number>();
  stages.forEach((s, i) => {
    if (s.from.stageName !== undefined) byName.set(s.from.stageName.toLowerCase(), i);
  });
  const ctx: CompileContext = {
    options: resolvedOptions,
    lexer,
    displayLexer: new ShellLexer({ escapeToken: parsed.escapeToken, rawQuotes: true, skipUnsetEnv: true }),
    heredocLexer: new ShellLexer({ escapeToken: parsed.escapeToken, skipProcessQuotes: true }),
    globalArgs: args,
    graph: new GraphBuilder(),
    warnings,
    stages,
    proxyEnv: proxyEnvFrom(options.buildArgs),
    sourceDateEpoch: epoch.epoch,
    stageIndex: (name) => byName.get(name.toLowerCase()),
    compileStage(index) {
      let p = compiled.get(index);
      if (p === undefined) {
        p = buildStage(ctx, index);
        compiled.set(index, p);
      }
      return p;
    },
    pace,
    resolveImage(ref: string, platform: Platform, location: SourceLocation) {
      const key = `${ref}\0${formatPlatform(platform)}`;
      let p = resolved.get(key);
      if (p === undefined) {
        p = resolveWithLocation(options, ref, platform, location);
        resolved.set(key, p);
      }
      return p;
    },
  };
  const state = await ctx.compileStage(targetStageIndex(stages, options.target));
  // --check lints every stage, as BuildKit's lint request does, not only those the target needs.
  if (options.checkOnly === true) await Promise.all(stages.map((_, i) => ctx.compileStage(i)));
  const violation = warnings.violation();
  const dated = epoch.epoch === undefined ? {} : { sourceDateEpoch: epoch.epoch };
  const base = state.image.base === undefined ? {} : { base: state.image.base };
  return { root: state.edge, image: finalizeImage(state.image, state.basePlatform ?? options.targetPlatform), stageName: state.name, warnings: warnings.list, checkFailed: violation !== undefined, ...(violation === undefined ? {} : { violation }), ...dated, ...base };
}

async function resolveWithLocation(options: CompileOptions, ref: string, platform: Platform, location: SourceLocation): Promise<ResolvedImageConfig> {
  try {
    return await options.resolveImageConfig(ref, { platform, signal: options.signal });
  } catch (err) {
    if (options.signal.aborted) throw err;
    throw new DockerfileError(`Cannot resolve image "${ref}" for ${formatPlatform(platform)}`, { location, cause: err });
  }
}
