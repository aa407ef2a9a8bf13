import type { Descriptor } from '../base/oci.js';
import type { ProgressSink } from '../base/progress.js';
import { blobFits, type Compression, type ExportLayer, type SnapshotLayer } from '../exporter/index.js';
import type { ImportedCache, ImportedLayer, ImportedRef, SnapshotRef } from '../solver/ops/index.js';
import type { Store } from './store.js';

/**
 * SolvedRootfs is the filesystem a build produced, handed to each output in the form it needs. A result found in an
 * imported cache stays remote until then: a push exports its blobs by descriptor (the registry mounts them), an
 * archive downloads them, and only outputs that need files unpack them.
 */
export interface SolvedRootfs {
  /**
   * imageLayers lists the layers of the image, bottom first: imported ones as blobs, fetched when a recompression
   * needs them, or unpacked when a rewrite of their file times (`rewriteTimestamp`) needs their files.
   */
  imageLayers(options: { compression: Compression; forceCompression: boolean; rewriteTimestamp?: boolean }, step: string): Promise<readonly ExportLayer[]>;
  /** snapshots lists the unpacked layers, bottom first, unpacking imported ones first. */
  snapshots(step: string): Promise<readonly SnapshotLayer[]>;
  /** fetch downloads the imported layer blobs among `blobs` that the content store lacks, verified by digest. */
  fetch(blobs: readonly Descriptor[], step: string): Promise<void>;
  /** top is the top snapshot once the filesystem is unpacked here, else null (an image record then keeps its blobs only). */
  top(): string | null;
  /** layers lists the layers as they are now (snapshots once unpacked, else imported blobs), bottom first. */
  layers(): readonly ExportLayer[];
}

/** SolvedRootfsDeps is what handing the filesystem to outputs needs. */
export interface SolvedRootfsDeps {
  readonly store: Store;
  readonly signal: AbortSignal;
  readonly progress: ProgressSink;
}

/** SolvedResult is the final result of a solve: unpacked snapshots, or an imported ref and the cache that has it. */
export type SolvedResult = SnapshotRef | { readonly kind: 'imported'; readonly ref: ImportedRef; readonly cache: ImportedCache };

/** snapshotLayers lists a snapshot chain as export layers, bottom first, each dated by when it was made. */
export function snapshotLayers(store: Store, top: string | null): SnapshotLayer[] {
  return store.snapshotter.chain(top).map((id) => {
    const createdAt = store.meta.snapshots.get(id)?.createdAt;
    return { id, dir: store.snapshotter.dir(id), ...(createdAt === undefined ? {} : { createdAt }) };
  });
}

/** importedLayers lists an imported chain as blob layers, bottom first. */
export function importedLayers(chain: readonly ImportedLayer[]): ExportLayer[] {
  return chain.map((l) => ({ kind: 'blob', descriptor: l.descriptor, diffId: l.diffId, ...(l.createdAt === undefined ? {} : { createdAt: l.createdAt }) }));
}

/** createSolvedRootfs wraps a solve's final result for the outputs. */
export function createSolvedRootfs(result: SolvedResult, deps: SolvedRootfsDeps): SolvedRootfs {
  const { store } = deps;
  const chainOf = (top: string | null): SnapshotLayer[] => snapshotLayers(store, top);
  if (result.kind === 'snapshot') {
    return {
      imageLayers: () => Promise.resolve(chainOf(result.snapshotId)),
      snapshots: () => Promise.resolve(chainOf(result.snapshotId)),
      fetch: () => Promise.resolve(),
      top: () => result.snapshotId,
      layers: () => chainOf(result.snapshotId),
    };
  }
  const { ref, cache } = result;
  const imported = new Set<string>(ref.chain.map((l) => l.descriptor.digest));
  let unpacked: Promise<SnapshotRef> | undefined;
  let top: string | null | undefined;
  const snapshots = async (step: string): Promise<SnapshotLayer[]> => {
    // Progress goes to the step that needed the files; the layers are unpacked once for every output.
    unpacked ??= cache.unpack({ ...ref, vertex: step }, { id: step, signal: deps.signal, progress: deps.progress });
    top = (await unpacked).snapshotId;
    return chainOf(top);
  };
  const blobs = (): ExportLayer[] => importedLayers(ref.chain);
  return {
    async imageLayers(options, step) {
      if (options.rewriteTimestamp === true) return snapshots(step);
      // A forced recompression converts the blobs themselves: their files need not be unpacked.
      if (!ref.chain.every((l) => blobFits(l, options))) {
        await cache.fetch(ref.chain.map((l) => l.descriptor), { vertex: step, signal: deps.signal, progress: deps.progress });
      }
      return blobs();
    },
    snapshots,
    async fetch(list, step) {
      const wanted = list.filter((d) => imported.has(d.digest));
      await cache.fetch(wanted, { vertex: step, signal: deps.signal, progress: deps.progress });
    },
    top: () => top ?? null,
    layers: () => (top === undefined ? blobs() : chainOf(top)),
  };
}
