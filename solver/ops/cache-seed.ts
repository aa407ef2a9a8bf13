import { chmod, chown } from 'node:fs/promises';
import { posix } from 'node:path';
import { InternalError, UsageError } from '../../base/errors.js';
import { createDirectoryView, createSnapshotView, type CacheMountSeed, type FsView } from '../../cache/index.js';
import type { CacheExecMount } from '../graph/index.js';
import type { Owner } from './chown.js';
import type { OpDeps } from './deps.js';
import { LayerWriter } from './layer-writer.js';
import type { Ref } from './ref.js';

/**
 * cacheMountSeed tells what a cache mount with a `from` input starts with: the input's files at `source`
 * (RUN --mount=type=cache,from=STAGE,source=PATH), or nothing for scratch. BuildKit keys such a cache by its id and
 * the input's result, so a rebuilt stage seeds a cache of its own while an unchanged one finds the cache it seeded.
 * The key also names the source: BuildKit shares one copy of the whole input between sources, tbuild copies only the
 * directory mounted.
 */
export function cacheMountSeed(m: CacheExecMount, inputs: readonly Ref[], deps: Pick<OpDeps, 'snapshotter'>): CacheMountSeed | undefined {
  if (m.input === null) return undefined;
  const ref = inputs[m.input];
  if (ref === undefined) throw new InternalError(`Cannot find input ${m.input} of a cache mount`);
  const source = posix.normalize(`/${m.selector ?? '/'}`);
  let view: FsView;
  let isExcluded: (rel: string) => boolean = () => false;
  let identity: string;
  // A folder of the client belongs to root in the build, whoever owns it on the host; a stage keeps its owners.
  let owner: Owner | undefined;
  if (ref.kind === 'local') {
    view = createDirectoryView(ref.dir);
    isExcluded = ref.isExcluded;
    owner = { uid: 0, gid: 0 };
    identity = `local ${ref.name} ${ref.dir}`;
  } else if (ref.snapshotId === null) {
    return undefined;
  } else {
    view = createSnapshotView(deps.snapshotter, ref.snapshotId);
    identity = `snapshot ${ref.snapshotId}`;
  }
  return {
    key: `${identity} ${source}`,
    populate: async (dir) => {
      const root = await view.lookup(source, { followLast: true });
      if (root === undefined || !root.stats.isDirectory()) {
        throw new UsageError(`Cannot mount a cache at "${m.dest}" from "${source}": not a directory in the mount's from input`);
      }
      const writer = new LayerWriter({ upperdir: dir, base: createDirectoryView(dir) }, owner, undefined);
      const relPath = source.slice(1);
      await writer.copyChildren({ relPath, entry: root }, '/', { view, isExcluded });
      // The mount shows the source directory itself: its owner and mode, not those of a new directory.
      await chown(dir, owner?.uid ?? root.stats.uid, owner?.gid ?? root.stats.gid);
      await chmod(dir, root.stats.mode & 0o7777);
      writer.keepTimes('/', root.stats);
      await writer.finish();
    },
  };
}
