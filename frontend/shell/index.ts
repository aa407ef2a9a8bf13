export { ShellLexer, parseEnvList } from './lexer.js';
export type { ShellEnv, ShellLexerOptions, ProcessWordResult } from './lexer.js';
export type { ExpansionModes } from './word-expansion.js';
