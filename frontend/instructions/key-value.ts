import { instructionError, type InstructionContext } from './context.js';
import { parseFlags } from './flags.js';
import type { ArgDefinition, ArgInstruction, EnvInstruction, KeyValuePair, LabelInstruction } from './types.js';

/** parsePairs reads the parser's (key, value, separator) triples; an empty separator is the legacy form. */
function parsePairs(ctx: InstructionContext): KeyValuePair[] {
  if (ctx.args.length === 0) throw instructionError(ctx, `${ctx.name} requires at least one argument`);
  if (ctx.args.length % 3 !== 0) throw instructionError(ctx, `${ctx.name} has too many arguments`);
  const pairs: KeyValuePair[] = [];
  for (let i = 0; i < ctx.args.length; i += 3) {
    const key = ctx.args[i] ?? '';
    if (key === '') throw instructionError(ctx, `${ctx.name} names can not be blank`);
    pairs.push({ key, value: ctx.args[i + 1] ?? '', noDelim: (ctx.args[i + 2] ?? '') === '' });
  }
  return pairs;
}

/** parseEnv reads ENV pairs. */
export function parseEnv(ctx: InstructionContext): EnvInstruction {
  parseFlags(ctx.node.flags, {}, ctx.base.location);
  return { ...ctx.base, kind: 'env', pairs: parsePairs(ctx) };
}

/** parseLabel reads LABEL pairs. */
export function parseLabel(ctx: InstructionContext): LabelInstruction {
  parseFlags(ctx.node.flags, {}, ctx.base.location);
  return { ...ctx.base, kind: 'label', pairs: parsePairs(ctx) };
}

/** parseArg reads `ARG name[=default] ...`. */
export function parseArg(ctx: InstructionContext): ArgInstruction {
  parseFlags(ctx.node.flags, {}, ctx.base.location);
  if (ctx.args.length === 0) throw instructionError(ctx, 'ARG requires at least one argument');
  const args = ctx.args.map((word): ArgDefinition => {
    const eq = word.indexOf('=');
    const key = eq < 0 ? word : word.slice(0, eq);
    if (key === '') throw instructionError(ctx, 'ARG names can not be blank');
    return { key, value: eq < 0 ? undefined : word.slice(eq + 1) };
  });
  return { ...ctx.base, kind: 'arg', args };
}
