import type { Digest } from '../../base/digest.js';
import { createVertex, type Edge, type Op, type OpMetadata, type Vertex } from '../../solver/graph/index.js';

/** GraphBuilder creates vertices, returning the existing vertex when an identical one was made before. */
export class GraphBuilder {
  readonly #vertices = new Map<Digest, Vertex>();

  /** add makes (or reuses) a vertex and returns its first output as an edge. */
  add(op: Op, inputs: readonly Edge[], metadata: OpMetadata): Edge {
    const vertex = createVertex(op, inputs, metadata);
    const existing = this.#vertices.get(vertex.digest);
    if (existing !== undefined) return { vertex: existing, output: 0 };
    this.#vertices.set(vertex.digest, vertex);
    return { vertex, output: 0 };
  }
}
