import { digestOf, type Digest } from '../../base/digest.js';
import { ContentError, RegistryError, SnapshotError } from '../../base/errors.js';
import { layerDescriptor, recordChain, type CacheLayer } from '../../cache/cache-config.js';
import { applyLayer } from '../../cache/layer/index.js';
import type { Vertex } from '../graph/index.js';
import type { JobContext, OpRunner } from '../types.js';
import type { LoadedCache, CacheBlobSource } from './cache-source.js';
import type { OpDeps } from './deps.js';
import type { Ref } from './ref.js';

/** ImportedCache answers cache keys from caches imported with --cache-from. */
export interface ImportedCache {
  /** load returns the snapshot of a key's result, downloading and applying only the layers not in the store yet. */
  load(key: Digest, vertex: Vertex, job: JobContext): Promise<{ snapshotId: string | null } | undefined>;
  /** findLocal returns the snapshot of a key whose layers are all unpacked already (no download), or undefined. */
  findLocal(key: Digest): string | null | undefined;
}

/** ImportedCacheDeps is what materialising imported results needs from the store. */
export type ImportedCacheDeps = Pick<OpDeps, 'meta' | 'content' | 'snapshotter' | 'layerBlobs'>;

interface Entry {
  readonly source: CacheBlobSource;
  readonly chain: readonly CacheLayer[];
}

/** createImportedCache indexes the records of loaded caches by key (the first cache listing a key wins). */
export function createImportedCache(caches: readonly LoadedCache[], deps: ImportedCacheDeps): ImportedCache {
  const entries = new Map<Digest, Entry>();
  for (const { source, config } of caches) {
    for (const record of config.records) {
      if (!entries.has(record.key)) entries.set(record.key, { source, chain: recordChain(config, record) });
    }
  }
  const rejected = new Set<Digest>();
  const unpacking = new Map<Digest, Promise<string>>();

  const localLayer = (chainId: Digest): string | undefined => {
    const rec = deps.meta.cacheRecords.get(layerRecordKey(chainId));
    return rec?.snapshotId != null && deps.snapshotter.exists(rec.snapshotId) ? rec.snapshotId : undefined;
  };

  const unpack = async (entry: Entry, index: number, parent: string | null, chainId: Digest, vertex: Vertex, job: JobContext): Promise<string> => {
    const layer = entry.chain[index];
    if (layer === undefined) throw new RangeError(`cache layer ${index} out of range`);
    const descriptor = layerDescriptor(layer);
    if ((await deps.content.info(layer.digest)) === undefined) {
      job.progress.emit({ type: 'status', vertex: vertex.digest, id: layer.digest, current: 0, total: layer.size, time: Date.now() });
      const stream = await entry.source.open(descriptor, { signal: job.signal });
      // The store verifies digest and size before the blob becomes visible.
      await deps.content.writeBlob(stream, { digest: layer.digest, size: layer.size }, { signal: job.signal });
      job.progress.emit({ type: 'status', vertex: vertex.digest, id: layer.digest, current: layer.size, total: layer.size, completed: true, time: Date.now() });
    }
    await using active = await deps.snapshotter.prepare(parent);
    const applied = await applyLayer(deps.content.readBlob(layer.digest), active.dir, { signal: job.signal, mediaType: layer.mediaType });
    if (applied.diffId !== layer.diffId) {
      throw new ContentError(`Cannot unpack cache layer ${layer.digest}: its content digest ${applied.diffId} differs from the record's ${layer.diffId}`, {
        code: 'DIGEST_MISMATCH',
      });
    }
    const id = await active.commit(`cache layer ${layer.digest}`);
    await deps.layerBlobs.remember(id, { descriptor, diffId: layer.diffId });
    const now = Date.now();
    await deps.meta.cacheRecords.put(layerRecordKey(chainId), { snapshotId: id, createdAt: now, lastUsedAt: now, description: `layer ${layer.digest}` });
    return id;
  };

  const materialise = async (key: Digest, entry: Entry, vertex: Vertex, job: JobContext): Promise<string | null> => {
    let parent: string | null = null;
    const ids = chainIds(entry.chain);
    for (let i = 0; i < ids.length; i++) {
      const chainId = ids[i];
      if (chainId === undefined) break;
      const have = localLayer(chainId);
      if (have !== undefined) {
        parent = have;
        continue;
      }
      // Vertices sharing a layer prefix unpack it once.
      let p = unpacking.get(chainId);
      if (p === undefined) {
        p = unpack(entry, i, parent, chainId, vertex, job);
        unpacking.set(chainId, p);
        p.then(
          () => unpacking.delete(chainId),
          () => unpacking.delete(chainId),
        );
      }
      parent = await p;
    }
    const now = Date.now();
    await deps.meta.cacheRecords.put(key, { snapshotId: parent, createdAt: now, lastUsedAt: now, description: vertex.metadata.name });
    return parent;
  };

  return {
    async load(key, vertex, job) {
      const entry = entries.get(key);
      if (entry === undefined || rejected.has(key)) return undefined;
      try {
        return { snapshotId: await materialise(key, entry, vertex, job) };
      } catch (err) {
        if (job.signal.aborted) throw job.signal.reason;
        if (!(err instanceof ContentError || err instanceof SnapshotError || err instanceof RegistryError)) throw err;
        // A corrupt or foreign record is never used: run the vertex instead.
        rejected.add(key);
        job.progress.emit({
          type: 'warning',
          message: `Ignoring cache record ${key} from "${entry.source.name}" for ${vertex.metadata.name}: ${err.message}`,
          time: Date.now(),
        });
        return undefined;
      }
    },
    findLocal(key) {
      const entry = entries.get(key);
      if (entry === undefined || rejected.has(key)) return undefined;
      let top: string | null = null;
      for (const chainId of chainIds(entry.chain)) {
        const have = localLayer(chainId);
        if (have === undefined) return undefined;
        top = have;
      }
      return top;
    },
  };
}

/** withImportedCache adds an imported-cache step to a runner's lookup, after the local store misses. */
export function withImportedCache(runner: OpRunner<Ref>, cache: ImportedCache): OpRunner<Ref> {
  return {
    cacheKey: (vertex, inputKeys, job) => runner.cacheKey(vertex, inputKeys, job),
    run: (vertex, key, inputs, job) => runner.run(vertex, key, inputs, job),
    async lookup(vertex, key, job) {
      const local = await runner.lookup(vertex, key, job);
      // Sources resolve themselves (pulls, the client's files); only op results come from a cache.
      if (local !== undefined || vertex.op.kind === 'source') return local;
      const hit = await cache.load(key, vertex, job);
      return hit === undefined ? undefined : { kind: 'snapshot', snapshotId: hit.snapshotId };
    },
  };
}

/** chainIds computes the OCI ChainID of each layer prefix, as image pulls record them. */
function chainIds(chain: readonly CacheLayer[]): Digest[] {
  const out: Digest[] = [];
  for (const layer of chain) {
    const prev = out[out.length - 1];
    out.push(prev === undefined ? layer.diffId : digestOf(`${prev} ${layer.diffId}`));
  }
  return out;
}

/** layerRecordKey is the cache record of an unpacked layer chain, shared with image pulls. */
function layerRecordKey(chainId: Digest): string {
  return `layer:${chainId}`;
}
