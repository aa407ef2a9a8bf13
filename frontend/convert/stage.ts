import { DockerfileError } from '../../base/errors.js';
import { formatPlatform, type ImageConfig, type Platform } from '../../base/oci.js';
import { normalizePlatform } from '../../base/platform.js';
import { parseInstruction, suggestNearest, type FromInstruction, type Instruction } from '../instructions/index.js';
import { parseDockerfile } from '../parser/index.js';
import type { CompileContext } from './context.js';
import { imageSource } from './copy-from.js';
import { namedContextRoot, namedUrlSource } from './context-source.js';
import { dispatchInstruction, type StageInstruction } from './dispatch.js';
import { runLexer } from './expand.js';
import { cloneImageState, DEFAULT_PATH, emptyImageState, imageStateFrom, setEnvEntry } from './image-state.js';
import { parsePlatform } from './platform.js';
import { applyWorkdir } from './scope-instructions.js';
import { formatEpoch } from './source-date-epoch.js';
import { stageProcess, vertexName, type StageState } from './stage-state.js';

const LAYER_KINDS = new Set<Instruction['kind']>(['run', 'copy', 'add', 'workdir']);

function expandFromWord(ctx: CompileContext, from: FromInstruction, word: string): string {
  // The checks of FROM words (UndefinedArgInFrom) ran for every stage before the build (lint-stages.ts).
  return runLexer(ctx.lexer, word, ctx.globalArgs, from.location).result;
}

/** fromPlatform reads FROM --platform; its errors name the nearest declared arg of an unset one, as BuildKit's do. */
function fromPlatform(ctx: CompileContext, from: FromInstruction, word: string): Platform {
  const r = runLexer(ctx.lexer, word, ctx.globalArgs, from.location);
  const hinted = (message: string): string => {
    for (const name of r.unmatched) {
      const near = suggestNearest(name, ctx.globalArgs.keys(), true);
      if (near !== undefined) return `${message} (did you mean ${near}?)`;
    }
    return message;
  };
  if (r.result === '') throw new DockerfileError(hinted(`empty platform value from expression ${word}`), { location: from.location });
  try {
    return parsePlatform(r.result, from.location);
  } catch (err) {
    if (!(err instanceof DockerfileError)) throw err;
    throw new DockerfileError(`failed to parse platform ${word}: ${hinted(err.message)}`, { location: from.location, cause: err });
  }
}

function parseTriggers(ctx: CompileContext, from: FromInstruction, triggers: readonly string[]): StageInstruction[] {
  return triggers.map((trigger) => {
    const { ast } = parseDockerfile(trigger, { file: ctx.options.file });
    const [node, extra] = ast.children;
    if (node === undefined || extra !== undefined) {
      throw new DockerfileError('onbuild trigger should be a single expression', { location: from.location });
    }
    const instruction = parseInstruction(node, ctx.options.file);
    return { instruction: { ...instruction, location: from.location }, onBuild: true };
  });
}

interface StageBase {
  readonly kind: 'stage' | 'image' | 'scratch';
  readonly state: Omit<StageState, 'index' | 'name' | 'label' | 'ignoreCache' | 'cmdIndex' | 'cmdTotal' | 'cmdSet' | 'workdirSet' | 'lastGiven'>;
  readonly triggers: readonly string[];
  /** The image source: the reference, its manifest digest and the platform it was resolved for. */
  readonly imageRef?: { readonly ref: string; readonly digest: string; readonly platform: Platform };
  /** The base stage's WORKDIR was set by this Dockerfile. */
  readonly workdirSet?: boolean;
}

function previousStage(ctx: CompileContext, name: string, index: number): number | undefined {
  const lower = name.toLowerCase();
  for (let i = index - 1; i >= 0; i--) if (ctx.stages[i]?.from.stageName?.toLowerCase() === lower) return i;
  return undefined;
}

/**
 * checkBasePlatform warns of a base image built for another OS or architecture than asked (InvalidBaseImagePlatform)
 * and returns the platform its binaries are for, which the stage's steps and the image config then carry.
 */
async function checkBasePlatform(ctx: CompileContext, name: string, wanted: Platform, config: ImageConfig, from: FromInstruction): Promise<Platform | undefined> {
  const actual = normalizePlatform({ os: config.os, architecture: config.architecture, ...(config.variant === undefined ? {} : { variant: config.variant }) });
  const expected = normalizePlatform(wanted);
  if (actual.os === expected.os && actual.architecture === expected.architecture) return undefined;
  // Without --platform or FROM --platform, a base this machine can run makes the stage's platform, unremarked.
  const implicit = from.platform === undefined ? ctx.options.implicitTargetPlatform : undefined;
  if (implicit !== undefined && (await implicit.workerPlatforms()).some((p) => p.os === actual.os && p.architecture === actual.architecture)) return actual;
  const message = `Base image ${name} was pulled with platform "${formatPlatform(actual)}", expected "${formatPlatform(expected)}" for current build`;
  ctx.warnings.add('InvalidBaseImagePlatform', message, from.location);
  return actual;
}

async function resolveBase(ctx: CompileContext, index: number, name: string, platform: Platform): Promise<StageBase> {
  let baseName = name;
  const from = ctx.stages[index]?.from;
  if (from === undefined) throw new DockerfileError(`invalid stage index ${index}`);
  // As in BuildKit, a named build context replaces a stage of the same name.
  const named = ctx.options.namedContexts?.get(baseName);
  // As in BuildKit, FROM names the nearest stage of that name before it (names may repeat: DuplicateStageName).
  const baseIndex = named === undefined ? previousStage(ctx, baseName, index) : undefined;
  if (baseIndex !== undefined) {
    const base = await ctx.compileStage(baseIndex);
    const triggers = (ctx.stages[baseIndex]?.instructions ?? []).flatMap((i) => (i.kind === 'onbuild' ? [i.expression] : []));
    const state = { ...base, image: cloneImageState(base.image), env: new Map(base.env), buildArgs: [...base.buildArgs] };
    return { kind: 'stage', state, triggers, workdirSet: base.workdirSet };
  }
  const fresh = { edge: null, env: new Map<string, string>(), buildArgs: [], workdir: '/', user: '', platform };
  if (named?.type === 'local') {
    return { kind: 'scratch', state: { ...fresh, edge: namedContextRoot(ctx, baseName, platform), image: emptyImageState() }, triggers: [] };
  }
  if (named?.type === 'url') {
    return { kind: 'scratch', state: { ...fresh, edge: namedUrlSource(ctx, baseName, named.url, platform, from.location), image: emptyImageState() }, triggers: [] };
  }
  if (named?.type === 'image') baseName = named.ref;
  if (baseName.toLowerCase() === 'scratch') return { kind: 'scratch', state: { ...fresh, image: emptyImageState() }, triggers: [] };
  const resolved = await ctx.resolveImage(baseName, platform, from.location);
  const actual = await checkBasePlatform(ctx, baseName, platform, resolved.config, from);
  const image = imageStateFrom(resolved.config);
  const triggers = [...(image.config.OnBuild ?? [])];
  delete image.config.OnBuild;
  const hasLayers = resolved.config.rootfs.diff_ids.length > 0 || (resolved.config.history ?? []).some((h) => h.empty_layer !== true);
  const state = actual === undefined ? { ...fresh, image } : { ...fresh, image, platform: actual, basePlatform: actual };
  return { kind: hasLayers ? 'image' : 'scratch', state, triggers, imageRef: { ref: resolved.ref, digest: resolved.digest, platform } };
}

/** stageLabel is the stage's name in vertex names: its name, `stage-N`, or nothing for a one-stage Dockerfile. */
function stageLabel(ctx: CompileContext, index: number): string {
  if (ctx.stages.length === 1) return '';
  return ctx.stages[index]?.from.stageName?.toLowerCase() ?? `stage-${index}`;
}

/** buildStage compiles one stage: resolves its base, runs inherited ONBUILD triggers, then its instructions. */
export async function buildStage(ctx: CompileContext, index: number): Promise<StageState> {
  const stage = ctx.stages[index];
  if (stage === undefined) throw new DockerfileError(`invalid stage index ${index}`);
  const { from } = stage;
  const baseName = expandFromWord(ctx, from, from.baseName);
  if (baseName === '') throw new DockerfileError(`base name (${from.baseName}) should not be blank`, { location: from.location });
  const platform = from.platform === undefined ? ctx.options.targetPlatform : fromPlatform(ctx, from, from.platform);
  const base = await resolveBase(ctx, index, baseName, platform);
  const items: StageInstruction[] = [...parseTriggers(ctx, from, base.triggers), ...stage.instructions.map((instruction) => ({ instruction, onBuild: false }))];
  const name = from.stageName?.toLowerCase();
  const filter = (ctx.options.noCacheFilter ?? []).map((s) => s.toLowerCase());
  const state: StageState = {
    ...base.state,
    index,
    name,
    label: stageLabel(ctx, index),
    ...(ctx.options.platformPrefix === true ? { namePlatform: platform } : {}),
    ignoreCache: ctx.options.noCache === true || (name !== undefined && filter.includes(name)),
    cmdIndex: 0,
    cmdTotal: (base.kind === 'image' ? 1 : 0) + items.filter((i) => LAYER_KINDS.has(i.instruction.kind)).length,
    cmdSet: false,
    workdirSet: base.kind === 'stage' && base.workdirSet === true,
    lastGiven: new Map(),
  };
  if (base.kind !== 'stage') initFromImage(state);
  if (ctx.sourceDateEpoch !== undefined) state.image.historyTime = formatEpoch(ctx.sourceDateEpoch);
  if (base.kind === 'image' && base.imageRef !== undefined) {
    const { ref, digest, platform: resolvedFor } = base.imageRef;
    const pinned = ref.includes('@') || digest === '' ? ref : `${ref}@${digest}`;
    // The source keeps the platform it was resolved for, so its stored resolution is found again.
    state.edge = imageSource(ctx, ref, digest, { platform: resolvedFor }, vertexName(state, `FROM ${pinned}`), from.location, stageProcess(state));
  }
  for (const item of items) {
    await ctx.pace();
    await dispatchInstruction(ctx, state, item);
  }
  return state;
}

/** initFromImage seeds the scope from the base image config: Env (with a default PATH), WorkingDir and User. */
function initFromImage(state: StageState): void {
  const env = state.image.config.Env ?? [];
  if (!env.some((e) => e.startsWith('PATH='))) state.image.config.Env = setEnvEntry(env, 'PATH', DEFAULT_PATH);
  for (const entry of state.image.config.Env ?? []) {
    const eq = entry.indexOf('=');
    state.env.set(eq < 0 ? entry : entry.slice(0, eq), eq < 0 ? '' : entry.slice(eq + 1));
  }
  const wd = state.image.config.WorkingDir;
  if (wd !== undefined && wd !== '') applyWorkdir(state, wd);
  state.user = state.image.config.User ?? '';
}
