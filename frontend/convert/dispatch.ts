import { assertNever, DockerfileError } from '../../base/errors.js';
import type { Instruction } from '../instructions/index.js';
import type { CompileContext } from './context.js';
import { dispatchCopy } from './copy.js';
import {
  dispatchCmd,
  dispatchEntrypoint,
  dispatchEnv,
  dispatchExpose,
  dispatchHealthcheck,
  dispatchLabel,
  dispatchMaintainer,
  dispatchShell,
  dispatchStopsignal,
  dispatchUser,
  dispatchVolume,
} from './image-instructions.js';
import { checkInstruction } from './lint-instructions.js';
import { dispatchRun } from './run.js';
import { dispatchArg, dispatchOnbuild, dispatchWorkdir } from './scope-instructions.js';
import type { StageState } from './stage-state.js';

/** StageInstruction is an instruction to run in a stage, flagged when it came from an ONBUILD trigger. */
export interface StageInstruction {
  readonly instruction: Instruction;
  readonly onBuild: boolean;
}

/** dispatchInstruction applies one instruction to a stage's graph state and image config. */
export async function dispatchInstruction(ctx: CompileContext, state: StageState, item: StageInstruction): Promise<void> {
  ctx.options.signal.throwIfAborted();
  checkInstruction(ctx, state, item);
  const i = item.instruction;
  switch (i.kind) {
    case 'from':
      throw new DockerfileError('FROM cannot appear inside a stage', { location: i.location });
    case 'run':
      return dispatchRun(ctx, state, i, item.onBuild);
    case 'copy':
    case 'add':
      return dispatchCopy(ctx, state, i, item.onBuild);
    case 'workdir':
      return dispatchWorkdir(ctx, state, i, item.onBuild);
    case 'arg':
      return dispatchArg(ctx, state, i);
    case 'env':
      return dispatchEnv(ctx, state, i);
    case 'label':
      return dispatchLabel(ctx, state, i);
    case 'maintainer':
      return dispatchMaintainer(ctx, state, i);
    case 'expose':
      return dispatchExpose(ctx, state, i);
    case 'volume':
      return dispatchVolume(ctx, state, i);
    case 'user':
      return dispatchUser(ctx, state, i);
    case 'stopsignal':
      return dispatchStopsignal(ctx, state, i);
    case 'shell':
      return dispatchShell(state, i);
    case 'cmd':
      return dispatchCmd(ctx, state, i);
    case 'entrypoint':
      return dispatchEntrypoint(ctx, state, i);
    case 'healthcheck':
      return dispatchHealthcheck(state, i);
    case 'onbuild':
      return dispatchOnbuild(state, i);
    default:
      return assertNever(i, 'instruction');
  }
}
