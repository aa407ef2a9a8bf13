import { DockerfileError, type SourceLocation } from '../../base/errors.js';
import type { Edge, StageProcess } from '../../solver/graph/index.js';
import { withSuggestion } from '../instructions/index.js';
import type { CompileContext } from './context.js';
import { contextSource, namedUrlSource } from './context-source.js';
import type { StageState } from './stage-state.js';

/** imageSource adds the SourceOp of an image pinned by digest. */
export function imageSource(ctx: CompileContext, ref: string, digest: string, state: { platform: StageState['platform'] }, name: string, location: SourceLocation, process?: StageProcess): Edge {
  const pinned = ref.includes('@') || digest === '' ? ref : `${ref}@${digest}`;
  return ctx.graph.add({ kind: 'source', source: { type: 'image', ref: pinned }, platform: state.platform }, [], { name, location, ...(process === undefined ? {} : { process }) });
}

function stageNames(ctx: CompileContext): string[] {
  return ctx.stages.flatMap((s) => (s.from.stageName === undefined ? [] : [s.from.stageName.toLowerCase()]));
}

/** resolveCopyFrom finds what `COPY --from=x` reads: an earlier stage (by name or index) or an image. */
export async function resolveCopyFrom(
  ctx: CompileContext,
  state: StageState,
  from: string,
  location: SourceLocation,
  copy: { readonly paths: readonly string[]; readonly excludes: readonly string[] } = { paths: [], excludes: [] },
): Promise<Edge> {
  if (/\$/.test(from)) {
    throw new DockerfileError('variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround', { location });
  }
  // As in BuildKit, a named build context replaces a stage of the same name.
  const named = /^\d+$/.test(from) ? undefined : ctx.options.namedContexts?.get(from);
  const index = /^\d+$/.test(from) ? Number(from) : named === undefined ? ctx.stageIndex(from) : undefined;
  if (index !== undefined) {
    if (index >= ctx.stages.length) throw new DockerfileError(`invalid stage index ${index}`, { location });
    if (index >= state.index) {
      throw new DockerfileError(`cannot copy from stage "${from}", it needs to be defined before current stage "${state.label}"`, { location });
    }
    const source = await ctx.compileStage(index);
    if (source.edge === null) throw new DockerfileError(`Cannot copy from stage "${from}": the stage is empty (scratch)`, { location });
    return source.edge;
  }
  if (named?.type === 'local') return contextSource(ctx, state, copy, from, location);
  if (named?.type === 'url') return namedUrlSource(ctx, from, named.url, state.platform, location);
  const ref = named?.type === 'image' ? named.ref : from;
  let resolved;
  try {
    resolved = await ctx.resolveImage(ref, state.platform, location);
  } catch (err) {
    if (ctx.options.signal.aborted || !(err instanceof Error)) throw err;
    throw new DockerfileError(withSuggestion(`Cannot resolve "${from}" for COPY --from: it is neither an earlier stage nor an image`, from, stageNames(ctx)), { location, cause: err });
  }
  return imageSource(ctx, resolved.ref, resolved.digest, state, `[internal] load ${resolved.ref}`, location);
}
