/** The Dockerfile frontend: parser, shell lexer, typed instructions and the compiler to the build graph. */
export { compileDockerfile, FindingsError } from './convert/index.js';
export { describeDockerfile, type DescribeKind, type DescribeOptions, type Described } from './convert/describe.js';
export type { Outline, OutlineArg, OutlineMount, Subrequest, Target, TargetList } from './convert/describe-types.js';
export type { BuildDefinition, BuildWarning, CompileOptions, ImageConfigResolver, NamedContext, ResolvedImageConfig, RunSettings, SourceDateResolver, SourceDateSubject } from './convert/index.js';
export * from './parser/index.js';
export * from './shell/index.js';
export * from './dockerignore/index.js';
export { parseGitRef } from './convert/git-ref.js';
