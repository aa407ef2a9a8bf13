import { instructionError, type InstructionContext } from './context.js';
import { parseFlags } from './flags.js';
import type { CmdInstruction, EntrypointInstruction, RunInstruction, ShellInstruction } from './types.js';

interface CommandLine {
  readonly args: readonly string[];
  readonly prependShell: boolean;
}

/** commandLine reads exec form (a JSON array) or shell form (the rest of the line). */
function commandLine(ctx: InstructionContext): CommandLine {
  if (ctx.node.attributes.json === true) return { args: ctx.args, prependShell: false };
  const text = ctx.args.join(' ');
  return { args: text === '' ? [] : [text], prependShell: true };
}

/** parseRun reads RUN with its --mount, --network and --security flags and heredocs. */
export function parseRun(ctx: InstructionContext): RunInstruction {
  const flags = parseFlags(ctx.node.flags, { mount: 'list', network: 'string', security: 'string' }, ctx.base.location);
  const line = commandLine(ctx);
  if (line.args.length === 0 && ctx.node.heredocs.length === 0) throw instructionError(ctx, 'RUN requires at least one argument');
  return {
    ...ctx.base,
    kind: 'run',
    ...line,
    heredocs: ctx.node.heredocs,
    mounts: flags.mount,
    network: flags.network,
    security: flags.security,
  };
}

/** parseCmd reads CMD. */
export function parseCmd(ctx: InstructionContext): CmdInstruction {
  parseFlags(ctx.node.flags, {}, ctx.base.location);
  return { ...ctx.base, kind: 'cmd', ...commandLine(ctx) };
}

/** parseEntrypoint reads ENTRYPOINT. */
export function parseEntrypoint(ctx: InstructionContext): EntrypointInstruction {
  parseFlags(ctx.node.flags, {}, ctx.base.location);
  return { ...ctx.base, kind: 'entrypoint', ...commandLine(ctx) };
}

/** parseShell reads SHELL, which must be a non-empty JSON array. */
export function parseShell(ctx: InstructionContext): ShellInstruction {
  parseFlags(ctx.node.flags, {}, ctx.base.location);
  if (ctx.node.attributes.json !== true) throw instructionError(ctx, 'SHELL requires the arguments to be in JSON form');
  if (ctx.args.length === 0) throw instructionError(ctx, 'SHELL requires at least one argument');
  return { ...ctx.base, kind: 'shell', shell: ctx.args };
}
