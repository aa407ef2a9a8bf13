import { DockerfileError, type SourceLocation } from '../../base/errors.js';
import { instructionKeyword, nodeArgs, type InstructionNode } from './node.js';
import type { InstructionBase } from './types.js';

/** InstructionContext is one instruction line prepared for its parser. */
export interface InstructionContext {
  readonly node: InstructionNode;
  readonly base: InstructionBase;
  readonly args: readonly string[];
  /** Upper-case instruction name for messages. */
  readonly name: string;
}

/** createInstructionContext prepares a root child node for parsing. */
export function createInstructionContext(node: InstructionNode, file: string): InstructionContext {
  const location: SourceLocation = { file, startLine: node.startLine, endLine: node.endLine };
  return {
    node,
    base: { location, original: node.original, keyword: instructionKeyword(node) },
    args: nodeArgs(node),
    name: node.value.toUpperCase(),
  };
}

/** instructionError is a syntax error at an instruction. */
export function instructionError(ctx: InstructionContext, message: string): DockerfileError {
  return new DockerfileError(message, { location: ctx.base.location, code: 'DOCKERFILE_SYNTAX' });
}

/** requireArgs checks the argument count of an instruction. */
export function requireArgs(ctx: InstructionContext, min: number, max = Number.POSITIVE_INFINITY): void {
  const n = ctx.args.length;
  if (n < min) {
    throw instructionError(ctx, min === 1 ? `${ctx.name} requires at least one argument` : `${ctx.name} requires at least ${min} arguments`);
  }
  if (n > max) throw instructionError(ctx, max === 1 ? `${ctx.name} requires exactly one argument` : `${ctx.name} accepts at most ${max} arguments`);
}
