/** The solver core: evaluates a build graph with caching, sharing and group failure. */
export { createSolver, type Solver, type SolveOutcome, type SolvedVertex } from './solver.js';
export type { JobContext, OpRunner } from './types.js';
