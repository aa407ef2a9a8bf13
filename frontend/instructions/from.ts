import { instructionError, type InstructionContext } from './context.js';
import { parseFlags } from './flags.js';
import type { FromInstruction } from './types.js';

const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/i;

/** isValidStageName tells whether a name can follow `FROM ... AS`. */
export function isValidStageName(name: string): boolean {
  return STAGE_NAME.test(name);
}

/** parseFrom reads `FROM [--platform=p] image [AS name]`. */
export function parseFrom(ctx: InstructionContext): FromInstruction {
  const flags = parseFlags(ctx.node.flags, { platform: 'string' }, ctx.base.location);
  const [baseName, asWord, stageName] = ctx.args;
  const named = ctx.args.length === 3 && asWord?.toLowerCase() === 'as';
  if (baseName === undefined || (ctx.args.length !== 1 && !named)) {
    throw instructionError(ctx, 'FROM requires either one or three arguments');
  }
  if (named && stageName !== undefined && !isValidStageName(stageName)) {
    throw instructionError(ctx, `invalid name for build stage: "${stageName}", name can't start with a number or contain symbols`);
  }
  return {
    ...ctx.base,
    kind: 'from',
    baseName,
    stageName: named ? stageName : undefined,
    asKeyword: named ? asWord : undefined,
    platform: flags.platform,
  };
}
