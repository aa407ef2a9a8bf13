import { canonicalJson } from '../../base/canonical-json.js';
import { digestOf, type Digest } from '../../base/digest.js';
import type { SourceLocation } from '../../base/errors.js';
import type { Op } from './op.js';

/** OpMetadata describes a vertex for people; it is never hashed. */
export interface OpMetadata {
  /** Display name, e.g. `[stage-1 2/4] RUN make`. */
  readonly name: string;
  readonly location?: SourceLocation;
  /** Set for --no-cache and --no-cache-filter: run even when a cache record exists. */
  readonly ignoreCache?: boolean;
  /** The stage's process settings as of this step (a FROM, COPY, ADD or WORKDIR): what a debug shell in its result gets. */
  readonly process?: StageProcess;
}

/** StageProcess is a Dockerfile stage's environment, working folder and user (USER form, '' = root) at one step. */
export interface StageProcess {
  readonly env: readonly string[];
  readonly cwd: string;
  readonly user: string;
}

/** Edge is one output of a vertex used as another's input. */
export interface Edge {
  readonly vertex: Vertex;
  readonly output: number;
}

/** Vertex is a node of the build graph: an op, its inputs and its content digest. */
export interface Vertex {
  readonly digest: Digest;
  readonly op: Op;
  readonly inputs: readonly Edge[];
  readonly metadata: OpMetadata;
}

/** createVertex builds a vertex, digesting the op with its inputs' digests. */
export function createVertex(op: Op, inputs: readonly Edge[], metadata: OpMetadata): Vertex {
  const digest = digestOf(canonicalJson({ op, inputs: inputs.map((e) => [e.vertex.digest, e.output]) }));
  return { digest, op, inputs, metadata };
}

/** walkVertices yields every vertex reachable from the roots once, inputs before users. */
export function* walkVertices(roots: readonly Vertex[]): Generator<Vertex> {
  const seen = new Set<Digest>();
  const stack: { v: Vertex; expanded: boolean }[] = roots.map((v) => ({ v, expanded: false })).reverse();
  while (stack.length > 0) {
    const top = stack.pop();
    if (top === undefined) break;
    if (seen.has(top.v.digest)) continue;
    if (top.expanded) {
      seen.add(top.v.digest);
      yield top.v;
      continue;
    }
    stack.push({ v: top.v, expanded: true });
    for (const e of [...top.v.inputs].reverse()) if (!seen.has(e.vertex.digest)) stack.push({ v: e.vertex, expanded: false });
  }
}
