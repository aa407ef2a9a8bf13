export { readIgnoreFile } from './read-ignore-file.js';
export { PatternMatcher, IgnorePattern, matches, mayReincludeBelow } from './pattern-matcher.js';
export { compilePattern } from './compile-pattern.js';
export type { CompiledPattern, MatchType } from './compile-pattern.js';
export { cleanPath } from './clean-path.js';
