import { digestOf, type Digest } from '../../base/digest.js';
import { SnapshotError } from '../../base/errors.js';
import { meterTransfer } from '../../base/transfer-meter.js';
import type { Descriptor, ImageConfig, ImageManifest } from '../../base/oci.js';
import PQueue from 'p-queue';
import { applyLayer } from '../../cache/index.js';
import type { ResolvedImage } from '../../registry/index.js';
import type { JobContext } from '../index.js';
import type { OpDeps } from './deps.js';
import { layoutOf } from './layout-images.js';
import { layerRecordKey, storedSnapshot } from './stored-snapshot.js';

/** chainIds computes the OCI ChainID of each layer prefix of an image. */
export function chainIds(config: ImageConfig): Digest[] {
  const out: Digest[] = [];
  for (const diffId of config.rootfs.diff_ids) {
    const prev = out[out.length - 1];
    out.push(prev === undefined ? diffId : digestOf(`${prev} ${diffId}`));
  }
  return out;
}


/** findPulledImage returns the top snapshot of an image already unpacked, or undefined. */
export function findPulledImage(resolved: ResolvedImage, deps: OpDeps): string | null | undefined {
  const ids = chainIds(resolved.config);
  const top = ids[ids.length - 1];
  if (top === undefined) return null;
  return storedSnapshot(layerRecordKey(top), deps);
}

/** pullImage downloads and unpacks an image's layers that are not in the store yet, returning its top snapshot. */
export async function pullImage(resolved: ResolvedImage, deps: OpDeps, job: JobContext, vertex: string): Promise<string | null> {
  const manifest: ImageManifest = resolved.manifest;
  const ids = chainIds(resolved.config);
  if (ids.length !== manifest.layers.length) {
    throw new SnapshotError(`Cannot unpack image: its config lists ${ids.length} layers but its manifest ${manifest.layers.length}`);
  }
  const unpacked = ids.map((chainId) => storedSnapshot(layerRecordKey(chainId), deps));
  // Missing blobs download together, a few at a time, while the layers before them unpack in order.
  const downloads = new PQueue({ concurrency: PARALLEL_DOWNLOADS });
  const fetched = manifest.layers.map((layer, i) =>
    unpacked[i] !== undefined ? Promise.resolve() : downloads.add(() => fetchLayer(resolved, layer, deps, job, vertex), { signal: job.signal }),
  );
  // A failed download is reported where its layer is unpacked; until then it must not count as unhandled.
  for (const f of fetched) f.catch(() => undefined);
  try {
    return await unpackLayers(resolved, ids, unpacked, fetched, deps, job);
  } finally {
    await Promise.allSettled(fetched);
  }
}

const PARALLEL_DOWNLOADS = 3;

async function fetchLayer(resolved: ResolvedImage, layer: Descriptor, deps: OpDeps, job: JobContext, vertex: string): Promise<void> {
  if ((await deps.content.info(layer.digest)) !== undefined) return;
  job.progress.emit({ type: 'status', vertex, id: layer.digest, current: 0, total: layer.size, time: Date.now() });
  const fetched = await openLayer(resolved, layer, deps, job.signal);
  const stream = meterTransfer(fetched, (current) => job.progress.emit({ type: 'status', vertex, id: layer.digest, current, total: layer.size, time: Date.now() }));
  await deps.content.writeBlob(stream, { digest: layer.digest, size: layer.size }, { signal: job.signal });
  job.progress.emit({ type: 'status', vertex, id: layer.digest, current: layer.size, total: layer.size, completed: true, time: Date.now() });
}

/** openLayer streams a layer from where its image was resolved: the client's OCI layout, or the registry. */
async function openLayer(resolved: ResolvedImage, layer: Descriptor, deps: OpDeps, signal: AbortSignal): Promise<NodeJS.ReadableStream> {
  const layout = layoutOf(resolved);
  if (layout === undefined) return (await deps.registry()).fetchBlob(resolved.ref, layer, { signal });
  const blobs = deps.layouts?.get(layout);
  if (blobs === undefined) throw new SnapshotError(`Cannot unpack layer ${layer.digest}: no OCI layout is named ${layout}`);
  return blobs.open(layer, { signal });
}

async function unpackLayers(
  resolved: ResolvedImage,
  ids: readonly Digest[],
  unpacked: readonly (string | undefined)[],
  fetched: readonly Promise<void>[],
  deps: OpDeps,
  job: JobContext,
): Promise<string | null> {
  const manifest = resolved.manifest;
  let parent: string | null = null;
  for (let i = 0; i < manifest.layers.length; i++) {
    const layer = manifest.layers[i];
    const chainId = ids[i];
    const diffId = resolved.config.rootfs.diff_ids[i];
    if (layer === undefined || chainId === undefined || diffId === undefined) break;
    const done = unpacked[i];
    if (done !== undefined) {
      parent = done;
      continue;
    }
    await fetched[i];
    await using active = await deps.snapshotter.prepare(parent);
    const applied = await applyLayer(deps.content.readBlob(layer.digest), active.dir, { signal: job.signal, mediaType: layer.mediaType });
    if (applied.diffId !== diffId) {
      throw new SnapshotError(`Cannot unpack layer ${layer.digest}: its content digest ${applied.diffId} differs from the image config's ${diffId}`);
    }
    const id = await active.commit(`layer ${layer.digest}`);
    await deps.layerBlobs.remember(id, { descriptor: layer, diffId });
    await deps.cacheKeys.record(layerRecordKey(chainId), { resultId: id, description: `layer ${layer.digest}` });
    parent = id;
  }
  return parent;
}
