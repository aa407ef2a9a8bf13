import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { digestOf } from '../../../base/digest.js';
import { prune } from '../../../cache/gc.js';
import { openStore } from '../../../controller/store.js';
import { createStoredBlobLocations } from '../../../controller/stored-blob-locations.js';
import { makeTempDir } from '../../helpers/cli.js';

const signal = new AbortController().signal;

describe('stored blob locations', () => {
  it('keeps repositories per registry and blob, most recent first, across openings of the store', async () => {
    await using tmp = await makeTempDir();
    const root = join(tmp.path, 'root');
    const blob = digestOf('layer');
    {
      await using store = await openStore(root);
      const locations = createStoredBlobLocations(store.meta);
      await locations.add('reg.example:5000', blob, 'team/a');
      await locations.add('reg.example:5000', blob, 'team/b');
      await locations.add('reg.example:5000', blob, 'team/a');
      await locations.add('other.example', blob, 'x/y');
    }
    await using store = await openStore(root);
    const locations = createStoredBlobLocations(store.meta);
    expect(await locations.repositoriesOf('reg.example:5000', blob)).toEqual(['team/a', 'team/b']);
    expect(await locations.repositoriesOf('other.example', blob)).toEqual(['x/y']);
    expect(await locations.repositoriesOf('reg.example:5000', digestOf('unknown'))).toEqual([]);
  });

  it('keeps at most eight repositories of a blob', async () => {
    await using tmp = await makeTempDir();
    await using store = await openStore(join(tmp.path, 'root'));
    const locations = createStoredBlobLocations(store.meta);
    const blob = digestOf('popular');
    for (let i = 0; i < 12; i++) await locations.add('reg', blob, `repo-${i}`);
    expect(await locations.repositoriesOf('reg', blob)).toEqual(Array.from({ length: 8 }, (_, i) => `repo-${11 - i}`));
  });

  it('forgets where blobs are once nothing in the store refers to them', async () => {
    await using tmp = await makeTempDir();
    await using store = await openStore(join(tmp.path, 'root'));
    const locations = createStoredBlobLocations(store.meta);
    const kept = await store.content.writeBlob(Buffer.from('kept layer'), {}, { signal });
    // The kept blob is the one a cached layer was made from.
    let snapshotId: string;
    {
      await using active = await store.snapshotter.prepare(null);
      snapshotId = await active.commit('layer');
    }
    await store.meta.cacheRecords.put('key', { snapshotId, createdAt: Date.now(), lastUsedAt: Date.now(), description: 'step' });
    await store.layerBlobs.remember(snapshotId, { descriptor: { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: kept.digest, size: kept.size }, diffId: kept.digest });
    const gone = digestOf('gone layer');
    await locations.add('reg', kept.digest, 'a/b');
    await locations.add('reg', gone, 'a/b');
    await prune({ meta: store.meta, snapshotter: store.snapshotter, content: store.content }, { all: false, keepDurationMs: 3_600_000 });
    expect(await locations.repositoriesOf('reg', gone)).toEqual([]);
    expect(await locations.repositoriesOf('reg', kept.digest)).toEqual(['a/b']);
  });
});
