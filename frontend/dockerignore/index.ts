export { readIgnoreFile } from './read-ignore-file.js';
export { PatternMatcher, IgnorePattern, matches } from './pattern-matcher.js';
export { compilePattern } from './compile-pattern.js';
export type { CompiledPattern, MatchType } from './compile-pattern.js';
export { cleanPath } from './clean-path.js';
export { walkContext } from './walk-context.js';
export type { ContextEntry, WalkContextOptions } from './walk-context.js';
export { findIgnoreFile, loadIgnorePatterns } from './find-ignore-file.js';
export type { FindIgnoreFileOptions } from './find-ignore-file.js';
