import { posix } from 'node:path';
import type { ArgInstruction, OnbuildInstruction, WorkdirInstruction } from '../instructions/index.js';
import type { CompileContext } from './context.js';
import { displayText, expandWord, reportUndefinedVars, runLexer } from './expand.js';
import { commitHistory } from './image-state.js';
import { parseChown } from './paths.js';
import { setScopeVar, stageProcess, vertexName, type StageState } from './stage-state.js';

/** applyWorkdir sets the working directory without creating it (base image WorkingDir). */
export function applyWorkdir(state: StageState, path: string): string {
  const wd = posix.normalize(posix.isAbsolute(path) ? path : posix.join(state.workdir, path));
  const clean = wd.length > 1 ? wd.replace(/\/+$/, '') : wd;
  state.workdir = clean;
  state.image.config.WorkingDir = clean;
  return clean;
}

/** dispatchWorkdir sets the working directory and creates it, owned by the current user. */
export function dispatchWorkdir(ctx: CompileContext, state: StageState, i: WorkdirInstruction, onBuild: boolean): void {
  const wd = applyWorkdir(state, expandWord(ctx, state, i.path, i.location));
  if (wd === '/') {
    commitHistory(state.image, `WORKDIR ${wd}`, { layer: false });
    return;
  }
  // As BuildKit's frontend, the directories WORKDIR creates are dated at SOURCE_DATE_EPOCH: the layer is reproducible.
  const mkdir = {
    action: 'mkdir' as const,
    path: wd,
    mode: 0o755,
    makeParents: true,
    ...(state.user === '' ? {} : { chown: parseChown(state.user) }),
    ...(ctx.sourceDateEpoch === undefined ? {} : { timestamp: ctx.sourceDateEpoch }),
  };
  const op = {
    kind: 'file' as const,
    base: state.edge === null ? null : 0,
    actions: [mkdir],
    platform: state.platform,
  };
  state.edge = ctx.graph.add(op, state.edge === null ? [] : [state.edge], {
    name: vertexName(state, displayText(ctx, state, i.original), onBuild),
    location: i.location,
    process: stageProcess(state),
  });
  commitHistory(state.image, `WORKDIR ${wd}`, { layer: true });
}

/** dispatchArg declares build args: a --build-arg wins over the default, a global ARG fills a bare one. */
export function dispatchArg(ctx: CompileContext, state: StageState, i: ArgInstruction): void {
  const parts: string[] = [];
  for (const arg of i.args) {
    let value: string | undefined;
    const given = ctx.options.buildArgs.get(arg.key);
    if (given !== undefined) {
      value = given;
    } else if (arg.value !== undefined) {
      const r = runLexer(ctx.lexer, arg.value, state.env, i.location);
      reportUndefinedVars(ctx, state, r.unmatched, i.location);
      value = r.result;
    } else {
      value = ctx.globalArgs.get(arg.key);
    }
    if (value !== undefined) setScopeVar(state.env, arg.key, value);
    state.buildArgs.push({ key: arg.key, value });
    parts.push(value === undefined ? arg.key : `${arg.key}=${value}`);
  }
  commitHistory(state.image, `ARG ${parts.join(' ')}`, { layer: false });
}

/** dispatchOnbuild stores a trigger in the image config. */
export function dispatchOnbuild(state: StageState, i: OnbuildInstruction): void {
  state.image.config.OnBuild = [...(state.image.config.OnBuild ?? []), i.expression];
}
