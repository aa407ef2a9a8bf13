/** Typed Dockerfile instructions: each parsed line becomes one member of the Instruction union. */
export type * from './types.js';
export type { InstructionNode, HeredocNode } from './node.js';
export type { FlagKind, FlagSpec, FlagValues } from './flags.js';
export type { PortSpec } from './expose.js';
export { groupStages, parseInstruction, parseStages, INSTRUCTION_NAMES } from './parse.js';
export { parseFlags } from './flags.js';
export { parsePortSpec } from './expose.js';
export { parseDuration } from './duration.js';
export { isValidStageName } from './from.js';
export { editDistance, suggestNearest, withSuggestion } from './suggest.js';
export { parseMountFlag, mountLocation, type RunMount, type CacheSharingMode, type MountOwnerSpec } from './mount.js';
