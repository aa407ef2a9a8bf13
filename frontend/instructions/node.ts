import type { Heredoc, Node } from '../parser/index.js';

/** HeredocNode is one here-document attached to an instruction line (the parser's Heredoc). */
export type HeredocNode = Heredoc;

/** InstructionNode is the parsed Dockerfile line that instructions are read from (the parser's Node). */
export type InstructionNode = Node;

/** nodeArgs returns the argument values chained after an instruction node. */
export function nodeArgs(node: InstructionNode): string[] {
  const out: string[] = [];
  for (let n = node.next; n !== undefined; n = n.next) out.push(n.value);
  return out;
}

/** instructionKeyword returns the instruction keyword as written in the source (original casing). */
export function instructionKeyword(node: InstructionNode): string {
  const m = /^\s*(\S+)/.exec(node.original);
  return m?.[1] ?? node.value.toUpperCase();
}
