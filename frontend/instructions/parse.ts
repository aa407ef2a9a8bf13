import { DockerfileError } from '../../base/errors.js';
import { parseCmd, parseEntrypoint, parseRun, parseShell } from './command.js';
import { createInstructionContext, type InstructionContext } from './context.js';
import { parseAdd, parseCopy } from './copy.js';
import { parseExpose } from './expose.js';
import { parseFrom } from './from.js';
import { parseHealthcheck } from './healthcheck.js';
import { parseArg, parseEnv, parseLabel } from './key-value.js';
import type { InstructionNode } from './node.js';
import { parseMaintainer, parseOnbuild, parseStopsignal, parseUser, parseVolume, parseWorkdir } from './single-value.js';
import { withSuggestion } from './suggest.js';
import type { ArgInstruction, Instruction, InstructionKind, ParsedStages, Stage } from './types.js';

const PARSERS: { readonly [K in InstructionKind]: (ctx: InstructionContext) => Extract<Instruction, { kind: K }> } = {
  from: parseFrom,
  run: parseRun,
  cmd: parseCmd,
  entrypoint: parseEntrypoint,
  shell: parseShell,
  env: parseEnv,
  label: parseLabel,
  arg: parseArg,
  maintainer: parseMaintainer,
  expose: parseExpose,
  copy: parseCopy,
  add: parseAdd,
  volume: parseVolume,
  user: parseUser,
  workdir: parseWorkdir,
  onbuild: parseOnbuild,
  stopsignal: parseStopsignal,
  healthcheck: parseHealthcheck,
};

/** INSTRUCTION_NAMES lists every instruction keyword in upper case. */
export const INSTRUCTION_NAMES: readonly string[] = Object.keys(PARSERS).map((k) => k.toUpperCase());

function isInstructionKind(value: string): value is InstructionKind {
  return Object.hasOwn(PARSERS, value);
}

/** parseInstruction turns one parsed line into a typed instruction; unknown keywords suggest the nearest one. */
export function parseInstruction(node: InstructionNode, file: string): Instruction {
  const ctx = createInstructionContext(node, file);
  const kind = node.value.toLowerCase();
  if (!isInstructionKind(kind)) {
    const name = ctx.base.keyword.toUpperCase();
    throw new DockerfileError(withSuggestion(`unknown instruction: ${name}`, name, INSTRUCTION_NAMES), {
      location: { ...ctx.base.location, column: 1 },
      code: 'DOCKERFILE_SYNTAX',
    });
  }
  return PARSERS[kind](ctx);
}

/** parseStages groups the instructions of a Dockerfile into stages, keeping the ARGs before the first FROM apart. */
export function parseStages(root: InstructionNode, file: string): ParsedStages {
  return groupStages(root.children.map((node) => parseInstruction(node, file)));
}

/** groupStages groups parsed instructions into stages, keeping the ARGs before the first FROM apart. */
export function groupStages(instructions: readonly Instruction[]): ParsedStages {
  const metaArgs: ArgInstruction[] = [];
  const stages: { from: Stage['from']; instructions: Stage['instructions'][number][] }[] = [];
  for (const instruction of instructions) {
    const current = stages[stages.length - 1];
    if (instruction.kind === 'from') {
      stages.push({ from: instruction, instructions: [] });
    } else if (current !== undefined) {
      current.instructions.push(instruction);
    } else if (instruction.kind === 'arg') {
      metaArgs.push(instruction);
    } else {
      throw new DockerfileError('no build stage in current context', { location: instruction.location, code: 'DOCKERFILE_SYNTAX' });
    }
  }
  return { metaArgs, stages };
}
