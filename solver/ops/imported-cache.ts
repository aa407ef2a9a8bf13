import { mapLimit } from '../../base/async.js';
import { digestOf, type Digest } from '../../base/digest.js';
import { ContentError, InternalError, RegistryError, SnapshotError } from '../../base/errors.js';
import type { Descriptor } from '../../base/oci.js';
import type { ProgressSink } from '../../base/progress.js';
import { meterTransfer } from '../../base/transfer-meter.js';
import { applyLayer, layerDescriptor, recordChain } from '../../cache/index.js';
import type { Vertex } from '../graph/index.js';
import { SharedCalls, type JobContext, type OpRunner } from '../index.js';
import type { LoadedCache, CacheBlobSource } from './cache-source.js';
import type { OpDeps } from './deps.js';
import { layerRecordKey, storedSnapshot } from './stored-snapshot.js';
import type { ImportedLayer, ImportedRef, Ref, SnapshotRef, SolvedRef } from './ref.js';

/**
 * ImportedCache answers cache keys from caches imported with --cache-from. A hit costs nothing: its blobs are
 * downloaded only when a vertex that runs uses the result (unpack) or an output needs them (fetch).
 */
export interface ImportedCache {
  /** lookup finds a key's result without fetching: a snapshot when its layers are unpacked here already, else an imported ref. */
  lookup(key: Digest, vertex: Vertex): Promise<SnapshotRef | ImportedRef | undefined>;
  /** unpack downloads and applies the layers of an imported ref that the store lacks, and records its key locally. */
  unpack(ref: ImportedRef, job: JobContext): Promise<SnapshotRef>;
  /** fetch downloads the blobs the content store lacks from the imported caches, verified by digest and size. */
  fetch(blobs: readonly Descriptor[], options: FetchOptions): Promise<void>;
  /** reject stops using a key's record after it failed to load, with a warning. */
  reject(ref: ImportedRef, err: Error, job: JobContext): void;
  /** chainOf lists the layers of a key's imported result, bottom first, or undefined when no imported cache has it. */
  chainOf(key: Digest): readonly ImportedLayer[] | undefined;
  /** findLocal returns the snapshot of a key whose layers are all unpacked already (no download), or undefined. */
  findLocal(key: Digest): string | null | undefined;
  /**
   * aliasesOf lists the other keys the imported caches hold for the same result as key (the same layers): the keys
   * of a step by its definition and by the files it read, so a cache exported again lists them all.
   */
  aliasesOf(key: Digest): readonly Digest[];
}

/** FetchOptions say where download progress goes: `vertex` is the vertex or step that needs the blobs. */
export interface FetchOptions {
  readonly vertex: string;
  readonly signal: AbortSignal;
  readonly progress: ProgressSink;
}

/** ImportedCacheDeps is what materialising imported results needs from the store. */
export type ImportedCacheDeps = Pick<OpDeps, 'cacheKeys' | 'content' | 'snapshotter' | 'layerBlobs'>;

interface Entry {
  readonly source: CacheBlobSource;
  readonly chain: readonly ImportedLayer[];
}

/** createImportedCache indexes the records of loaded caches by key (the first cache listing a key wins). */
export function createImportedCache(caches: readonly LoadedCache[], deps: ImportedCacheDeps): ImportedCache {
  const entries = new Map<Digest, Entry>();
  const byChain = new Map<string, Digest[]>();
  const sources = new Map<Digest, CacheBlobSource>();
  for (const { source, config } of caches) {
    for (const layer of config.layers) if (!sources.has(layer.digest)) sources.set(layer.digest, source);
    for (const record of config.records) {
      if (entries.has(record.key)) continue;
      const chain = recordChain(config, record).map(
        (l): ImportedLayer => ({ descriptor: layerDescriptor(l), diffId: l.diffId, ...(l.createdAt === undefined ? {} : { createdAt: Date.parse(l.createdAt) }) }),
      );
      entries.set(record.key, { source, chain });
      const same = byChain.get(chainName(chain));
      if (same === undefined) byChain.set(chainName(chain), [record.key]);
      else same.push(record.key);
    }
  }
  const rejected = new Set<Digest>();
  const fetching = new SharedCalls<void>();
  const unpacking = new SharedCalls<string>();

  const localLayer = (chainId: Digest): string | undefined => storedSnapshot(layerRecordKey(chainId), deps);
  const findLocal = (chain: readonly ImportedLayer[]): string | null | undefined => {
    let top: string | null = null;
    for (const chainId of chainIds(chain)) {
      const have = localLayer(chainId);
      if (have === undefined) return undefined;
      top = have;
    }
    return top;
  };
  const recordKey = (key: string, snapshotId: string | null, description: string): Promise<void> => deps.cacheKeys.record(key, { resultId: snapshotId, description });

  const download = async (blob: Descriptor, o: FetchOptions): Promise<void> => {
    if ((await deps.content.info(blob.digest)) !== undefined) return;
    const source = sources.get(blob.digest);
    if (source === undefined) throw new ContentError(`Cannot find blob ${blob.digest}: neither the store nor an imported cache has it`, { code: 'CONTENT_NOT_FOUND' });
    o.progress.emit({ type: 'status', vertex: o.vertex, id: blob.digest, current: 0, total: blob.size, time: Date.now() });
    const opened = await source.open(blob, { signal: o.signal });
    const stream = meterTransfer(opened, (current) => o.progress.emit({ type: 'status', vertex: o.vertex, id: blob.digest, current, total: blob.size, time: Date.now() }));
    // The store verifies digest and size before the blob becomes visible.
    await deps.content.writeBlob(stream, { digest: blob.digest, size: blob.size }, { signal: o.signal });
    o.progress.emit({ type: 'status', vertex: o.vertex, id: blob.digest, current: blob.size, total: blob.size, completed: true, time: Date.now() });
  };
  const fetchOne = (blob: Descriptor, o: FetchOptions): Promise<void> =>
    // Outputs and vertices needing the same blob download it once.
    fetching.run(blob.digest, () => download(blob, o)).promise;

  const unpackLayer = async (layer: ImportedLayer, parent: string | null, chainId: Digest, o: FetchOptions): Promise<string> => {
    await fetchOne(layer.descriptor, o);
    await using active = await deps.snapshotter.prepare(parent);
    const applied = await applyLayer(deps.content.readBlob(layer.descriptor.digest), active.dir, { signal: o.signal, mediaType: layer.descriptor.mediaType });
    if (applied.diffId !== layer.diffId) {
      throw new ContentError(`Cannot unpack cache layer ${layer.descriptor.digest}: its content digest ${applied.diffId} differs from the record's ${layer.diffId}`, {
        code: 'DIGEST_MISMATCH',
      });
    }
    // The layer keeps the time it was made where it was built, so images dated by it come out the same here.
    const id = await active.commit(`cache layer ${layer.descriptor.digest}`, layer.createdAt === undefined ? {} : { createdAt: layer.createdAt });
    await deps.layerBlobs.remember(id, layer);
    await recordKey(layerRecordKey(chainId), id, `layer ${layer.descriptor.digest}`);
    return id;
  };

  return {
    async lookup(key, vertex) {
      const entry = entries.get(key);
      if (entry === undefined || rejected.has(key)) return undefined;
      const local = findLocal(entry.chain);
      if (local === undefined) return { kind: 'imported', key, vertex: vertex.digest, name: vertex.metadata.name, chain: entry.chain };
      // Unpacked already (or empty): the next build finds it without the imported cache.
      await recordKey(key, local, vertex.metadata.name);
      return { kind: 'snapshot', snapshotId: local };
    },
    async unpack(ref, job) {
      const o: FetchOptions = { vertex: ref.vertex, signal: job.signal, progress: job.progress };
      const ids = chainIds(ref.chain);
      const missing = ref.chain.filter((_, i) => {
        const chainId = ids[i];
        return chainId === undefined || localLayer(chainId) === undefined;
      });
      // Downloads run ahead, a few at a time, while the layers unpack in order; a failure surfaces where its layer unpacks.
      const ahead = Promise.allSettled([mapLimit(missing, PARALLEL_DOWNLOADS, (l) => fetchOne(l.descriptor, o))]);
      let parent: string | null = null;
      try {
        for (let i = 0; i < ids.length; i++) {
          const chainId = ids[i];
          const layer = ref.chain[i];
          if (chainId === undefined || layer === undefined) break;
          const below: string | null = parent;
          // Vertices sharing a layer prefix unpack it once.
          parent = localLayer(chainId) ?? (await unpacking.run(chainId, () => unpackLayer(layer, below, chainId, o)).promise);
        }
      } finally {
        await ahead;
      }
      await recordKey(ref.key, parent, ref.name);
      return { kind: 'snapshot', snapshotId: parent };
    },
    async fetch(blobs, o) {
      await mapLimit(blobs, PARALLEL_DOWNLOADS, (blob) => fetchOne(blob, o));
    },
    reject(ref, err, job) {
      rejected.add(ref.key);
      const from = entries.get(ref.key)?.source.name ?? 'an imported cache';
      job.progress.emit({ type: 'warning', message: `Ignoring cache record ${ref.key} from "${from}" for ${ref.name}: ${err.message}`, time: Date.now() });
    },
    chainOf: (key) => (rejected.has(key) ? undefined : entries.get(key)?.chain),
    findLocal(key) {
      const entry = entries.get(key);
      return entry === undefined || rejected.has(key) ? undefined : findLocal(entry.chain);
    },
    aliasesOf(key) {
      const entry = entries.get(key);
      if (entry === undefined || rejected.has(key)) return [];
      return (byChain.get(chainName(entry.chain)) ?? []).filter((k) => k !== key && !rejected.has(k));
    },
  };
}

/** chainName names a chain of imported layers by their blob digests, bottom first. */
function chainName(chain: readonly ImportedLayer[]): string {
  return chain.map((l) => l.descriptor.digest).join('/');
}

const PARALLEL_DOWNLOADS = 3;

/** withImportedCache adds an imported-cache step to a runner's lookup, after the local store misses. */
export function withImportedCache(runner: OpRunner<Ref>, cache: ImportedCache): OpRunner<SolvedRef> {
  return {
    pin: (vertex, job) => runner.pin(vertex, job),
    run: async (vertex, key, inputs, job) => runner.run(vertex, key, inputs.map(usable), job),
    // A record not fetched yet is known by its layers' digests only: never equal to files digested here.
    contentDigest: async (vertex, result, job) => (result.kind === 'imported' ? digestOf(['imported', ...result.chain.map((l) => l.diffId)].join('\n')) : runner.contentDigest(vertex, result, job)),
    // Files of a record not fetched yet are not digested: fetching it only to key a step would cost what the cache saves.
    selectedContentDigest: async (vertex, input, job) => {
      const result = async (): Promise<Ref | undefined> => {
        const ref = await input.result();
        return ref?.kind === 'imported' ? undefined : ref;
      };
      return runner.selectedContentDigest(vertex, { ...input, result }, job);
    },
    async lookup(vertex, key, job) {
      const local = await runner.lookup(vertex, key, job);
      // Sources resolve themselves (pulls, the client's files); only op results come from a cache.
      if (local !== undefined || vertex.op.kind === 'source') return local;
      return cache.lookup(key, vertex);
    },
    async load(_vertex, result, job) {
      if (result.kind !== 'imported') return result;
      try {
        return await cache.unpack(result, job);
      } catch (err) {
        if (job.signal.aborted) throw job.signal.reason;
        if (!(err instanceof ContentError || err instanceof SnapshotError || err instanceof RegistryError)) throw err;
        // A corrupt or vanished record is never used: the solver runs the vertex instead.
        cache.reject(result, err, job);
        return undefined;
      }
    },
  };
}

function usable(ref: SolvedRef): Ref {
  if (ref.kind === 'imported') throw new InternalError(`Cannot use cache record ${ref.key} of ${ref.name} before it is loaded`);
  return ref;
}

/** chainIds computes the OCI ChainID of each layer prefix, as image pulls record them. */
function chainIds(chain: readonly ImportedLayer[]): Digest[] {
  const out: Digest[] = [];
  for (const layer of chain) {
    const prev = out[out.length - 1];
    out.push(prev === undefined ? layer.diffId : digestOf(`${prev} ${layer.diffId}`));
  }
  return out;
}
