import { digestOf, type Digest } from '../../base/digest.js';
import { assertNever } from '../../base/errors.js';
import { computeContextChecksum } from './context-checksum.js';
import type { ContextMemo } from './context-memo.js';
import type { OpDeps } from './deps.js';
import type { Ref } from './ref.js';

/**
 * digestResultFiles digests the files a result holds: each layer of a snapshot chain (paths, types, modes,
 * contents, link targets), or a local folder as its checksum. Layers are memoised by stat like the build context.
 */
export async function digestResultFiles(ref: Ref, deps: OpDeps, options: { signal: AbortSignal; memo: ContextMemo }): Promise<Digest> {
  const checksum = { meta: deps.meta, signal: options.signal, memo: options.memo };
  switch (ref.kind) {
    case 'snapshot': {
      const layers: string[] = [];
      for (const id of deps.snapshotter.chain(ref.snapshotId)) {
        layers.push(await computeContextChecksum({ dir: deps.snapshotter.dir(id), isExcluded: () => false }, [], checksum));
      }
      return digestOf(['snapshot', ...layers].join('\n'));
    }
    case 'local':
      return digestOf(['local', await computeContextChecksum({ dir: ref.dir, isExcluded: ref.isExcluded }, [], checksum)].join('\n'));
    default:
      return assertNever(ref, 'ref');
  }
}
