import { digestOf, isDigest, type Digest } from '../../base/digest.js';
import { assertNever } from '../../base/errors.js';
import { computeContextChecksum } from './context-checksum.js';
import { ContextMemo } from './context-memo.js';
import type { OpDeps } from './deps.js';
import type { Ref } from './ref.js';

/** LayerMemo digests a committed layer's files by stat, and is never saved: a layer's digest is kept in its record. */
class LayerMemo extends ContextMemo {
  override async save(): Promise<void> {
    // Snapshot folders go away with their snapshots: memoising their files would only leave records behind.
  }
}

/**
 * digestResultFiles digests the files a result holds: each layer of a snapshot chain (paths, types, modes,
 * contents, link targets), or a local folder as its checksum. A committed layer never changes, so its digest is
 * kept in its snapshot record, and `layers` shares the ones being made within a build.
 */
export async function digestResultFiles(
  ref: Ref,
  deps: OpDeps,
  options: { signal: AbortSignal; memo: ContextMemo; layers: Map<string, Promise<Digest>> },
): Promise<Digest> {
  switch (ref.kind) {
    case 'snapshot': {
      const layers: string[] = [];
      for (const id of deps.snapshotter.chain(ref.snapshotId)) {
        let p = options.layers.get(id);
        if (p === undefined) {
          p = layerDigest(id, deps, options.signal).catch((err: unknown) => {
            // A failed digest (a cancelled build) is not remembered.
            options.layers.delete(id);
            throw err;
          });
          options.layers.set(id, p);
        }
        layers.push(await p);
      }
      return digestOf(['snapshot', ...layers].join('\n'));
    }
    case 'local': {
      const checksum = await computeContextChecksum({ dir: ref.dir, isExcluded: ref.isExcluded }, [], { meta: deps.meta, signal: options.signal, memo: options.memo });
      return digestOf(['local', checksum].join('\n'));
    }
    default:
      return assertNever(ref, 'ref');
  }
}

async function layerDigest(id: string, deps: OpDeps, signal: AbortSignal): Promise<Digest> {
  const rec = deps.meta.snapshots.get(id);
  if (rec?.contentDigest !== undefined && isDigest(rec.contentDigest)) return rec.contentDigest;
  const memo = new LayerMemo(deps.meta, Date.now());
  const digest = await computeContextChecksum({ dir: deps.snapshotter.dir(id), isExcluded: () => false }, [], { meta: deps.meta, signal, memo });
  // The record may be gone meanwhile (collected): then there is nothing to keep the digest in.
  const now = deps.meta.snapshots.get(id);
  if (now !== undefined) await deps.meta.snapshots.put(id, { ...now, contentDigest: digest });
  return digest;
}
