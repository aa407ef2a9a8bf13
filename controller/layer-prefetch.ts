import { createDigestOnlyStore } from '../cache/index.js';
import { getLayerBlob } from '../exporter/index.js';
import type { Vertex } from '../solver/graph/index.js';
import { exportEpoch } from './exporters/types.js';
import type { OutputSpec } from './request.js';
import type { Store } from './store.js';

/**
 * LayerPrefetch digests the layers a local image will hold as soon as their snapshots are committed, while the
 * build goes on: a large COPY layer is then read and digested during the steps after it (a RUN mostly waits for
 * its process) instead of after the last one. The export finds the digests in the layer blob records.
 */
export interface LayerPrefetch extends AsyncDisposable {
  /** committed is told of each snapshot a vertex made; it starts digesting those that are layers of the image. */
  readonly committed: (vertexDigest: string, snapshotId: string) => void;
  /** settled waits until every digest started is made (or has failed: the export then makes it and reports why). */
  settled(): Promise<void>;
}

/** LayerPrefetchOptions is what prefetching needs: the outputs decide whether it pays, and how layers are keyed. */
export interface LayerPrefetchOptions {
  readonly outputs: readonly OutputSpec[];
  readonly store: Store;
  /** The SOURCE_DATE_EPOCH build arg, as the export takes it (its layers only use it with rewrite-timestamp). */
  readonly sourceDateEpoch?: string;
  readonly signal: AbortSignal;
}

/** createLayerPrefetch returns a prefetcher for the image `root` builds; it does nothing unless an image stays in the local store. */
export function createLayerPrefetch(root: Vertex | undefined, options: LayerPrefetchOptions): LayerPrefetch {
  // Only the local store's layers are plain digests; compressing for a push or an archive would take the
  // cores the build's own steps need.
  const local = options.outputs.find((o) => o.type === 'image' && !o.push);
  const layers = root === undefined || local === undefined ? new Set<string>() : imageVertices(root);
  // One layer at a time, in commit order: the build's own steps need the other core.
  let queue: Promise<void> = Promise.resolve();
  // Disposing before settled() means the build failed: what is left is not needed.
  const stop = new AbortController();
  const signal = AbortSignal.any([options.signal, stop.signal]);
  const digest = async (snapshotId: string): Promise<void> => {
    if (signal.aborted) return;
    const { store } = options;
    const level = local?.type === 'image' && local.image.compressionLevel !== undefined ? { level: local.image.compressionLevel } : {};
    const layer = { id: snapshotId, dir: store.snapshotter.dir(snapshotId) };
    // The same settings as the export's local image, so that it finds this blob record. The build's own layers are
    // above any base: with rewrite-timestamp and an epoch the export wants them clamped, else as they are.
    const rewrite = local?.type === 'image' && local.image.rewriteTimestamp === true ? exportEpoch(local.image, options.sourceDateEpoch) : {};
    const settings = { compression: 'uncompressed' as const, ...level, ...(rewrite.sourceDateEpoch === undefined ? {} : { ...rewrite, rewriteTimestamp: true }) };
    await getLayerBlob(layer, { ...settings, store: createDigestOnlyStore(), cache: store.layerBlobs, signal });
  };
  const settled = (): Promise<void> => queue;
  return {
    committed: (vertexDigest, snapshotId) => {
      if (!layers.has(vertexDigest) || signal.aborted) return;
      // A failure here is not lost: the export then makes the blob itself and reports its own error.
      const ignore = (): void => undefined;
      queue = queue.then(() => digest(snapshotId)).then(ignore, ignore);
    },
    settled,
    [Symbol.asyncDispose]: async () => {
      stop.abort();
      await settled();
    },
  };
}

/** imageVertices lists the vertices whose snapshots stack into the root's filesystem: each one's base, down to the image. */
function imageVertices(root: Vertex): Set<string> {
  const out = new Set<string>();
  for (let v: Vertex | undefined = root; v !== undefined; v = baseOf(v)) out.add(v.digest);
  return out;
}

function baseOf(v: Vertex): Vertex | undefined {
  const { op } = v;
  switch (op.kind) {
    case 'file':
      return op.base === null ? undefined : v.inputs[op.base]?.vertex;
    case 'exec': {
      const rootfs = op.mounts.find((m) => m.type === 'bind' && m.dest === '/');
      return rootfs?.type !== 'bind' || rootfs.input === null ? undefined : v.inputs[rootfs.input]?.vertex;
    }
    default:
      return undefined;
  }
}
