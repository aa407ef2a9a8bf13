import { assertNever, InternalError } from '../../base/errors.js';
import { createDirectoryView, createLayeredView, createSnapshotView, type ListNames } from '../../cache/index.js';
import type { FileOp } from '../graph/index.js';
import type { JobContext } from '../index.js';
import { applyCopy, applyMkdir, applyMkfile, LayerUsage, type CopySource } from './copy.js';
import type { OpDeps } from './deps.js';
import { excludeMatcherOf } from './exclude.js';
import type { LinkSource } from './layer-writer.js';
import type { Ref, SnapshotRef } from './ref.js';

/** FileOpOptions names the vertex (its earlier layer is found by it) and how context directories are listed. */
export interface FileOpOptions {
  readonly vertexDigest: string;
  /** Lists context directories, e.g. from the memo the build's checksum filled. */
  readonly listNames?: ListNames;
}

/** runFileOp applies COPY/ADD/WORKDIR actions over the base input as one new snapshot. */
export async function runFileOp(op: FileOp, inputs: readonly Ref[], deps: OpDeps, job: JobContext, options: FileOpOptions): Promise<SnapshotRef> {
  const { vertexDigest } = options;
  const base = op.base === null ? null : inputs[op.base];
  if (base === undefined || (base !== null && base.kind !== 'snapshot')) throw new InternalError('Cannot change files of a local folder');
  await using active = await deps.snapshotter.prepare(base === null ? null : base.snapshotId);
  const startedAt = Date.now();
  const fromContext = op.actions.some((a) => a.action === 'copy' && inputs[a.input]?.kind === 'local');
  const linkSource = fromContext ? earlierLayer(vertexDigest, deps) : undefined;
  const usage = new LayerUsage();
  const target = { upperdir: active.dir, base: createLayeredView([active.dir, ...active.lowerdirs], { fixedFrom: 1 }), usage, ...(linkSource === undefined ? {} : { linkSource }) };
  const copyOptions = { excludeMatcher: excludeMatcherOf(deps), signal: job.signal };
  for (const action of op.actions) {
    job.signal.throwIfAborted();
    switch (action.action) {
      case 'copy':
        await applyCopy(action, copySource(inputs[action.input], deps, options.listNames), target, copyOptions);
        break;
      case 'mkdir':
        await applyMkdir(action, target);
        break;
      case 'mkfile':
        await applyMkfile(action, target);
        break;
      default:
        assertNever(action, 'file action');
    }
  }
  const snapshotId = await active.commit(describe(op), { size: usage.total });
  // The vertex digest names this COPY whatever the context holds: the next run after a change finds this layer.
  if (fromContext) await deps.meta.copyHints.put(vertexDigest, { snapshotId, startedAt });
  return { kind: 'snapshot', snapshotId };
}

function earlierLayer(vertexDigest: string, deps: OpDeps): LinkSource | undefined {
  const hint = deps.meta.copyHints.get(vertexDigest);
  if (hint === undefined || !deps.snapshotter.exists(hint.snapshotId)) return undefined;
  return { dir: deps.snapshotter.dir(hint.snapshotId), startedAt: hint.startedAt };
}

function copySource(ref: Ref | undefined, deps: OpDeps, listNames: ListNames | undefined): CopySource {
  if (ref === undefined) throw new InternalError('Cannot copy from a missing input');
  if (ref.kind === 'local') {
    return { view: createDirectoryView(ref.dir, listNames === undefined ? {} : { listNames }), isExcluded: ref.isExcluded, rootOwned: true, ref: ref.name };
  }
  return { view: createSnapshotView(deps.snapshotter, ref.snapshotId), isExcluded: () => false, ref: ref.snapshotId ?? 'scratch' };
}

function describe(op: FileOp): string {
  return op.actions.map((a) => (a.action === 'copy' ? `COPY ${a.sources.join(' ')} ${a.dest}` : `${a.action.toUpperCase()} ${a.path}`)).join('; ');
}
