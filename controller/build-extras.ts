import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UsageError } from '../base/errors.js';
import type { ImageConfig } from '../base/oci.js';
import { PatternMatcher } from '../frontend/index.js';
import type { BuildDefinition, NamedContext, RunSettings } from '../frontend/index.js';
import { walkVertices, type Vertex } from '../solver/graph/index.js';
import type { LocalContext } from '../solver/ops/index.js';
import { loadContext } from './context.js';
import type { BuildContextSpec, BuildRequest, BuildResult, CacheExportSpec } from './request.js';

/** namedContextsOf maps `--build-context` values to what the frontend resolves `FROM name` / `COPY --from=name` to. */
export function namedContextsOf(specs: readonly BuildContextSpec[]): Map<string, NamedContext> {
  const out = new Map<string, NamedContext>();
  for (const s of specs) {
    if (s.type === 'image') out.set(s.name, { type: 'image', ref: s.ref });
    else out.set(s.name, s.type === 'url' ? { type: 'url', url: s.url } : { type: 'local' });
  }
  return out;
}

/** loadNamedContexts opens every local `--build-context` folder (with its own .dockerignore) under its name. */
export async function loadNamedContexts(specs: readonly BuildContextSpec[]): Promise<Map<string, LocalContext>> {
  const out = new Map<string, LocalContext>();
  for (const s of specs) {
    if (s.type !== 'local') continue;
    const dir = resolve(s.path);
    const st = await stat(dir).catch(() => undefined);
    if (st?.isDirectory() !== true) throw new UsageError(`Cannot use build context "${s.name}": ${dir} is not a directory`);
    // Only the folder's own .dockerignore applies to a named context.
    out.set(s.name, await loadContext(dir, join(dir, '.no-dockerfile')));
  }
  return out;
}

/** compileExcludes compiles COPY --exclude patterns with .dockerignore semantics. */
export function compileExcludes(patterns: readonly string[]): (relPath: string) => boolean {
  const matcher = new PatternMatcher(patterns);
  return (relPath) => matcher.matchesOrParentMatches(relPath);
}

/** sourceDateEpochOf is the SOURCE_DATE_EPOCH the Dockerfile build resolved, as exports and prefetches take it. */
export function sourceDateEpochOf(definition: BuildDefinition): { sourceDateEpoch?: string } {
  return definition.sourceDateEpoch === undefined ? {} : { sourceDateEpoch: String(definition.sourceDateEpoch) };
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
export function inspectResult(request: BuildRequest, definition: BuildDefinition, warnings: readonly string[]): BuildResult {
  const printed =
    request.print === 'graph-json'
      ? `${JSON.stringify({ root: definition.root?.vertex.digest ?? null, vertices: graphOf(definition) }, null, 2)}\n`
      : request.print === 'graph'
        ? `${readableGraph(graphOf(definition))}\n`
        : undefined;
  return { names: [], warnings, ...(printed === undefined ? {} : { printed }), checkFailed: definition.checkFailed === true };
}

/** withLabels sets `--label` values on the image config, over the Dockerfile's LABELs, as docker buildx does. */
export function withLabels(image: ImageConfig, labels: Readonly<Record<string, string>> | undefined): ImageConfig {
  if (labels === undefined || Object.keys(labels).length === 0) return image;
  return { ...image, config: { ...image.config, Labels: { ...image.config?.Labels, ...labels } } };
}

/**
 * runSettingsOf picks the settings every RUN gets from the request, leaving out those not given. The build arg
 * BUILDKIT_SANDBOX_HOSTNAME names the RUN hostname, as in BuildKit (where it is part of each RUN's cache key too).
 */
export function runSettingsOf(request: BuildRequest): RunSettings {
  const hostname = request.buildArgs.get('BUILDKIT_SANDBOX_HOSTNAME') ?? '';
  return {
    ...(hostname === '' ? {} : { hostname }),
    ...(request.extraHosts === undefined || request.extraHosts.length === 0 ? {} : { extraHosts: request.extraHosts }),
    ...(request.shmSizeBytes === undefined ? {} : { shmSizeBytes: request.shmSizeBytes }),
    ...(request.ulimits === undefined || request.ulimits.length === 0 ? {} : { ulimits: request.ulimits }),
  };
}

/**
 * cacheExportsOf is the request's --cache-to list, plus an inline cache when the build arg BUILDKIT_INLINE_CACHE is
 * set to a true value, as `docker build --build-arg BUILDKIT_INLINE_CACHE=1` asks BuildKit for one.
 */
export function cacheExportsOf(request: BuildRequest): readonly CacheExportSpec[] {
  const specs = request.cacheTo ?? [];
  const flag = (request.buildArgs.get('BUILDKIT_INLINE_CACHE') ?? '').toLowerCase();
  if (!['1', 'true', 'yes', 'on'].includes(flag) || specs.some((s) => s.type === 'inline')) return specs;
  return [...specs, { type: 'inline' }];
}
