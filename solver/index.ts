/** The solver core: evaluates a build graph with caching, sharing and group failure. */
export { createSolver, type Solver, type SolveOptions, type SolveOutcome, type SolvedVertex, type SolverOptions } from './solver.js';
export { SharedCalls, type SharedCall } from './shared-call.js';
export type { JobContext, OpRunner } from './types.js';
export { computeCacheKey, computeOpDigest } from './cache-key.js';
