import { spawn } from 'node:child_process';
import { InternalError, SnapshotError } from '../../base/errors.js';
import type { MergeOp } from '../graph/index.js';
import type { JobContext } from '../index.js';
import type { OpDeps } from './deps.js';
import type { Ref, SnapshotRef } from './ref.js';

/**
 * runMerge puts the one layer of inputs[1] on top of the chain of inputs[0] as a new snapshot.
 * The layer's files are hard links to the immutable layer, so stacking costs a link per file.
 */
export async function runMerge(_op: MergeOp, inputs: readonly Ref[], deps: OpDeps, job: JobContext): Promise<SnapshotRef> {
  const [base, layer] = inputs;
  if (base?.kind !== 'snapshot' || layer?.kind !== 'snapshot') throw new InternalError('Cannot merge anything but snapshots');
  if (layer.snapshotId === null) return base;
  if (deps.snapshotter.chain(layer.snapshotId).length !== 1) throw new InternalError('Cannot merge a layer that sits on another');
  if (base.snapshotId === null) return layer;
  await using active = await deps.snapshotter.prepare(base.snapshotId);
  await linkTree(deps.snapshotter.dir(layer.snapshotId), active.dir, job.signal);
  return { kind: 'snapshot', snapshotId: await active.commit('merged layer') };
}

/** Copies a tree with hard links for files, keeping owners, modes, times and xattrs (GNU cp -al). */
function linkTree(from: string, to: string, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('cp', ['-a', '--link', '--', `${from}/.`, `${to}/`], { stdio: ['ignore', 'ignore', 'pipe'], signal });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new SnapshotError(`Cannot stack the linked layer: cp exited ${code}: ${stderr.trim()}`))));
  });
}
