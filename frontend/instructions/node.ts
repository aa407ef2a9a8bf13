/** HeredocNode is one here-document attached to an instruction line. */
export interface HeredocNode {
  readonly name: string;
  readonly content: string;
  readonly expand: boolean;
  readonly chomp: boolean;
}

/** InstructionNode is the part of a parsed Dockerfile line that instructions are read from. */
export interface InstructionNode {
  /** Lower-cased instruction keyword on a root child; argument text further down the chain. */
  readonly value: string;
  readonly next: InstructionNode | undefined;
  readonly children: readonly InstructionNode[];
  readonly attributes: { readonly json?: boolean };
  readonly original: string;
  /** Flags as written, e.g. `--from=build`. */
  readonly flags: readonly string[];
  readonly heredocs: readonly HeredocNode[];
  readonly startLine: number;
  readonly endLine: number;
}

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
