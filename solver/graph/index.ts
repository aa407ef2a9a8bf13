/** The build graph: ops, vertices and edges, as the frontend emits them. */
export type * from './op.js';
export type { OpMetadata, Edge, StageProcess, Vertex } from './vertex.js';
export { createVertex, walkVertices } from './vertex.js';
