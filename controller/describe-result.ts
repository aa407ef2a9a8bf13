import { hostPlatform } from '../base/oci.js';
import { describeDockerfile, type BuildDefinition, type DescribeKind } from '../frontend/index.js';
import { walkVertices, type Vertex } from '../solver/graph/index.js';
import type { BuildRequest, BuildResult, PrintKind } from './request.js';

const DESCRIBE_KINDS: readonly DescribeKind[] = ['targets', 'outline', 'subrequests.describe'];

/** describeRequest tells which description of the Dockerfile `--call` asks for, and whether as JSON; undefined for none. */
export function describeRequest(print: PrintKind | undefined): { readonly kind: DescribeKind; readonly json: boolean } | undefined {
  const json = print?.endsWith('-json') === true;
  const kind = DESCRIBE_KINDS.find((k) => k === (json ? print?.slice(0, -'-json'.length) : print));
  return kind === undefined ? undefined : { kind, json };
}

/** describeResult answers `--call targets|outline|subrequests.describe` from the Dockerfile text, as buildx prints it. */
export function describeResult(
  request: Pick<BuildRequest, 'target' | 'platform'> & { readonly buildArgs: ReadonlyMap<string, string> },
  dockerfile: { readonly name: string; readonly text: string },
  asked: { readonly kind: DescribeKind; readonly json: boolean },
): BuildResult {
  const described = describeDockerfile(dockerfile.text, asked.kind, {
    file: dockerfile.name,
    ...(request.target === undefined ? {} : { target: request.target }),
    buildArgs: request.buildArgs,
    targetPlatform: request.platform ?? hostPlatform(),
    buildPlatform: hostPlatform(),
  });
  // buildx prints the JSON result with a newline after it.
  return { names: [], warnings: [], printed: asked.json ? `${JSON.stringify(described.json, null, 2)}\n` : described.text };
}

interface PrintedVertex {
  readonly digest: string;
  readonly name: string;
  readonly op: Vertex['op'];
  readonly inputs: readonly { readonly vertex: string; readonly output: number }[];
}

function graphOf(definition: BuildDefinition): PrintedVertex[] {
  if (definition.root === null) return [];
  const out: PrintedVertex[] = [];
  for (const v of walkVertices([definition.root.vertex])) {
    out.push({ digest: v.digest, name: v.metadata.name, op: v.op, inputs: v.inputs.map((e) => ({ vertex: e.vertex.digest, output: e.output })) });
  }
  return out;
}

function readableGraph(vertices: readonly PrintedVertex[]): string {
  return vertices
    .map((v) => {
      const inputs = v.inputs.map((i) => `    input ${i.vertex}${i.output === 0 ? '' : `:${i.output}`}`).join('\n');
      return `${v.digest}  ${v.op.kind}  ${v.name}\n    op ${JSON.stringify(v.op)}${inputs === '' ? '' : `\n${inputs}`}`;
    })
    .join('\n');
}

/** inspectResult answers `--check` and `--print` without building. */
export function inspectResult(request: Pick<BuildRequest, 'print'>, definition: BuildDefinition, warnings: readonly string[]): BuildResult {
  const printed =
    request.print === 'graph-json'
      ? `${JSON.stringify({ root: definition.root?.vertex.digest ?? null, vertices: graphOf(definition) }, null, 2)}\n`
      : request.print === 'graph'
        ? `${readableGraph(graphOf(definition))}\n`
        : undefined;
  return { names: [], warnings, ...(printed === undefined ? {} : { printed }), checkFailed: definition.checkFailed === true };
}
