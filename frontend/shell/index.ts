export { MAX_EXPANSION_LENGTH, MAX_TOTAL_EXPANSION, ShellLexer, parseEnvList } from './lexer.js';
export type { ShellEnv, ShellLexerOptions, ProcessWordResult } from './lexer.js';
export type { ExpansionModes } from './word-expansion.js';
