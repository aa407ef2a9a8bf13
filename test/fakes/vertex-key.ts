import type { Digest } from '../../base/digest.js';
import type { Vertex } from '../../solver/graph/index.js';
import { computeVertexKey } from '../../solver/index.js';

/** vertexKey is the key the solver gives a vertex of ops other than sources (they need a pin), inputs keyed alike. */
export function vertexKey(v: Vertex): Digest {
  return computeVertexKey(v.op, { inputs: v.inputs.map((e) => ({ key: vertexKey(e.vertex) })) }).key;
}
