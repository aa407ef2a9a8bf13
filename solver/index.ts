/** The solver core: evaluates a build graph with caching, sharing and group failure. */
export { createSolver, type Solver, type SolveOptions, type SolveOutcome, type SolvedVertex, type SolverOptions } from './solver.js';
export { SharedCalls, type SharedCall } from './shared-call.js';
export type { JobContext, OpRunner, SelectedInput } from './types.js';
export {
  computeRerunKey,
  computeVertexKey,
  keyFromFields,
  KEY_VERSION,
  type CacheKeyPreimage,
  type ComputedKey,
  type KeyInput,
  type OpPreimage,
  type PreimageInput,
  type RerunPreimage,
  type VertexKeyOptions,
} from './cache-key.js';
export {
  cacheFields,
  CACHE_FIELDS,
  NESTED_CACHE_FIELDS,
  type CacheFields,
  type Exclude,
  type FieldDecisions,
  type GitPin,
  type Hash,
  type HttpPin,
  type ImagePin,
  type KeyKind,
  type LocalPin,
  type SourcePin,
} from './cache-fields.js';
export type { CacheKeyStorage, CacheResult, NewCacheResult } from './cache-key-storage.js';
export { cleanSource, contentSelectors, hasWildcard, pivotSelector } from './content-selectors.js';
