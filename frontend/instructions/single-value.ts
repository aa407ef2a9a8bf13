import { instructionError, requireArgs, type InstructionContext } from './context.js';
import { parseFlags } from './flags.js';
import type {
  MaintainerInstruction,
  OnbuildInstruction,
  StopsignalInstruction,
  UserInstruction,
  VolumeInstruction,
  WorkdirInstruction,
} from './types.js';

function singleArg(ctx: InstructionContext): string {
  parseFlags(ctx.node.flags, {}, ctx.base.location);
  requireArgs(ctx, 1, 1);
  return ctx.args[0] ?? '';
}

/** parseMaintainer reads MAINTAINER. */
export function parseMaintainer(ctx: InstructionContext): MaintainerInstruction {
  parseFlags(ctx.node.flags, {}, ctx.base.location);
  requireArgs(ctx, 1);
  return { ...ctx.base, kind: 'maintainer', maintainer: ctx.args.join(' ') };
}

/** parseUser reads USER. */
export function parseUser(ctx: InstructionContext): UserInstruction {
  return { ...ctx.base, kind: 'user', user: singleArg(ctx) };
}

/** parseWorkdir reads WORKDIR. */
export function parseWorkdir(ctx: InstructionContext): WorkdirInstruction {
  return { ...ctx.base, kind: 'workdir', path: singleArg(ctx) };
}

/** parseStopsignal reads STOPSIGNAL. */
export function parseStopsignal(ctx: InstructionContext): StopsignalInstruction {
  return { ...ctx.base, kind: 'stopsignal', signal: singleArg(ctx) };
}

/** parseVolume reads VOLUME in JSON or space-separated form. */
export function parseVolume(ctx: InstructionContext): VolumeInstruction {
  parseFlags(ctx.node.flags, {}, ctx.base.location);
  requireArgs(ctx, 1);
  return { ...ctx.base, kind: 'volume', volumes: ctx.args };
}

const ONBUILD_PREFIX = /^\s*ONBUILD\s*/i;

/** parseOnbuild reads ONBUILD; the trigger is kept as source text. */
export function parseOnbuild(ctx: InstructionContext): OnbuildInstruction {
  parseFlags(ctx.node.flags, {}, ctx.base.location);
  // A heredoc trigger keeps its documents, each followed by its terminator, so the child build can parse it again.
  const expression = [ctx.base.original.replace(ONBUILD_PREFIX, '').trim(), ...ctx.node.heredocs.map((h) => `${h.content}${h.name}`)].join('\n');
  const trigger = (/^\S+/.exec(expression)?.[0] ?? '').toUpperCase();
  if (trigger === '') throw instructionError(ctx, 'ONBUILD requires at least one argument');
  if (trigger === 'ONBUILD') throw instructionError(ctx, 'Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
  if (trigger === 'MAINTAINER' || trigger === 'FROM') throw instructionError(ctx, `${trigger} isn't allowed as an ONBUILD trigger`);
  return { ...ctx.base, kind: 'onbuild', expression };
}
