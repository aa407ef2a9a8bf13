import { digestOf, type Digest } from '../base/digest.js';
import { canonicalJson } from '../base/canonical-json.js';
import { ExportError } from '../base/errors.js';
import { MEDIA_TYPES, type Descriptor, type HistoryEntry, type ImageBase, type ImageConfig, type ImageManifest, type Platform } from '../base/oci.js';
import type { ContentIngester, ContentProvider, ContentStore } from '../cache/index.js';
import { exportLayerBlob, type ExportLayer } from './export-layer.js';
import { dockerLayer, getLayerBlob, type Compression, type LayerBlob, type LayerBlobCache, type LayerBlobOptions } from './layer/index.js';

/** REWRITTEN_TIMESTAMP is the layer annotation BuildKit's `rewrite-timestamp` puts on a layer: the epoch its file times were clamped to. */
export const REWRITTEN_TIMESTAMP = 'buildkit/rewritten-timestamp';

/** BuiltImage is an image whose config and manifest are in the content store, and its layer blobs unless they were imported. */
export interface BuiltImage {
  readonly manifest: ImageManifest;
  readonly manifestBytes: Uint8Array;
  /** manifestDescriptor points at the manifest and carries the image platform. */
  readonly manifestDescriptor: Descriptor;
  readonly config: ImageConfig;
  readonly configBytes: Uint8Array;
  readonly layers: readonly LayerBlob[];
}

/** BuildImageInput is what an image is made of: layers bottom→top (snapshots or blobs) and the config. */
export interface BuildImageInput {
  readonly layers: readonly ExportLayer[];
  /** config's rootfs.diff_ids is replaced by the layers' diff IDs. */
  readonly config: ImageConfig;
  readonly annotations?: Record<string, string>;
}

/** BuildImageOptions controls layer compression, reproducibility and where blobs go. */
export interface BuildImageOptions {
  readonly compression: Compression;
  readonly level?: number;
  /**
   * sourceDateEpoch dates the image (seconds since the epoch). As in BuildKit's exporter, the history entries of the
   * base image keep their times, and those the build added are dated at the epoch when they are undated or later (the
   * Dockerfile frontend dates them at its own epoch). The image is dated by its newest entry. File times in the
   * layers stay as the build made them unless rewriteTimestamp asks for them clamped.
   */
  readonly sourceDateEpoch?: number;
  /**
   * rewriteTimestamp (BuildKit's `rewrite-timestamp`) makes each layer above the base's from its files with the times
   * later than sourceDateEpoch clamped to it, also when it came pulled or imported as a blob, and marks it with
   * REWRITTEN_TIMESTAMP. Without it, or without an epoch, no file time is changed.
   */
  readonly rewriteTimestamp?: boolean;
  /** base is what the image keeps from its base image: an epoch leaves those layers and history entries as they are. */
  readonly base?: ImageBase;
  /**
   * created is the creation time of what this build added when its layers carry no time of their own (RFC 3339;
   * clamped by sourceDateEpoch). Layers made earlier keep their time, so an unchanged rebuild makes the same image.
   */
  readonly created?: string;
  /**
   * mediaTypes 'docker' (`oci-mediatypes=false`) writes Docker schema 2 media types, as BuildKit does: a Docker
   * manifest and config, Docker layer types (zstd keeps its OCI type, having no Docker one), and no layer annotations.
   */
  readonly mediaTypes?: 'oci' | 'docker';
  /** Recompress pulled base layers whose compression differs from `compression`. */
  readonly forceCompression?: boolean;
  readonly store: ContentStore;
  /** Where layer blobs go when not the store itself: e.g. a digest-only store for the local image store. */
  readonly layerStore?: ContentIngester & Pick<ContentProvider, 'info'>;
  readonly cache: LayerBlobCache;
  readonly signal: AbortSignal;
}

/** buildImage makes (or reuses) the layer blobs of the snapshots and writes the config and manifest. */
export async function buildImage(input: BuildImageInput, options: BuildImageOptions): Promise<BuiltImage> {
  const { signal, store } = options;
  // As in BuildKit, the epoch alone leaves file times as they are: blobs are rewritten layer by layer below, above
  // the base only, when rewrite-timestamp asks.
  const { sourceDateEpoch: _epoch, ...rest } = options;
  const blobOptions: LayerBlobOptions = { ...rest, rewriteTimestamp: false, store: options.layerStore ?? store, source: store };
  const rewriteAt = options.rewriteTimestamp === true ? options.sourceDateEpoch : undefined;
  const layers: LayerBlob[] = [];
  let diverged = false;
  // One layer at a time: each compression already uses every core.
  for (const [i, layer] of input.layers.entries()) {
    signal.throwIfAborted();
    // As BuildKit, the layers the image shares with its base, bottom up, are left as they are; those above are rewritten.
    if (rewriteAt !== undefined && diverged) {
      layers.push(await rewrittenBlob(layer, rewriteAt, blobOptions));
      continue;
    }
    const blob = await exportLayerBlob(layer, blobOptions);
    diverged ||= blob.diffId !== options.base?.diffIds[i];
    layers.push(rewriteAt !== undefined && diverged ? await rewrittenBlob(layer, rewriteAt, blobOptions) : blob);
  }
  // Written as Go writes a whole second, as BuildKit's config times are.
  const epoch = options.sourceDateEpoch === undefined ? undefined : new Date(options.sourceDateEpoch * 1000).toISOString().replace(/\.000Z$/, 'Z');
  const diffIds = layers.map((l) => l.diffId);
  const config =
    epoch === undefined
      ? imageConfig(input.config, diffIds, { history: historyTimes(input.config, input.layers, options.created), ...(options.created === undefined ? {} : { now: options.created }) })
      : imageConfig(input.config, diffIds, { history: epochTimes(input.config, epoch, options.base), now: epoch });
  const configBytes = Buffer.from(canonicalJson(config));
  // With the digest known up front, a rebuild that made the same config writes (and syncs) nothing.
  const configInfo = await store.writeBlob(configBytes, { digest: digestOf(configBytes), size: configBytes.length }, { signal });
  const docker = options.mediaTypes === 'docker';
  const manifestType = docker ? MEDIA_TYPES.dockerManifest : MEDIA_TYPES.ociManifest;
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: manifestType,
    config: { mediaType: docker ? MEDIA_TYPES.dockerConfig : MEDIA_TYPES.ociConfig, digest: configInfo.digest, size: configInfo.size },
    layers: layers.map((l) => (docker ? dockerLayer(l.descriptor) : l.descriptor)),
    ...(input.annotations === undefined || Object.keys(input.annotations).length === 0 ? {} : { annotations: { ...input.annotations } }),
  };
  const manifestBytes = Buffer.from(canonicalJson(manifest));
  const manifestInfo = await store.writeBlob(manifestBytes, { digest: digestOf(manifestBytes), size: manifestBytes.length }, { signal });
  const manifestDescriptor: Descriptor = {
    mediaType: manifestType,
    digest: manifestInfo.digest,
    size: manifestInfo.size,
    platform: platformOf(config),
  };
  return { manifest, manifestBytes, manifestDescriptor, config, configBytes, layers };
}

/** rewrittenBlob is a layer's blob made from its files with the times later than the epoch clamped to it, marked so. */
async function rewrittenBlob(layer: ExportLayer, epoch: number, options: LayerBlobOptions): Promise<LayerBlob> {
  if (layer.kind === 'blob') throw new ExportError(`Cannot rewrite the file times of layer ${layer.descriptor.digest}: its files are not unpacked`);
  const blob = await getLayerBlob(layer, { ...options, sourceDateEpoch: epoch, rewriteTimestamp: true });
  return { ...blob, descriptor: { ...blob.descriptor, annotations: { ...blob.descriptor.annotations, [REWRITTEN_TIMESTAMP]: String(epoch) } } };
}

/**
 * epochTimes dates the history with an epoch as BuildKit's exporter does: the base image's entries keep their times,
 * and each entry the build added that is undated or later than the epoch is dated at the epoch.
 */
function epochTimes(config: ImageConfig, epoch: string, base: ImageBase | undefined): (string | undefined)[] {
  const limit = Date.parse(epoch);
  return (config.history ?? []).map((h, i) => {
    if (i < (base?.historyLength ?? 0)) return h.created;
    return h.created === undefined || Date.parse(h.created) > limit ? epoch : h.created;
  });
}

/**
 * historyTimes gives each history entry its creation time, as BuildKit does: an entry of the base keeps its own, an
 * entry this build added gets the time its layer was made (layers and non-empty entries pair up from the top), and an
 * entry without a layer gets the time of the layer entry before it, or for those before any, of the first new layer.
 * Only when nothing has a time does `now` stand in.
 */
function historyTimes(config: ImageConfig, layers: readonly ExportLayer[], now: string | undefined): (string | undefined)[] {
  const entries = config.history ?? [];
  const dated: (string | undefined)[] = entries.map((h) => h.created);
  let top = layers.length - 1;
  for (let i = entries.length - 1; i >= 0; i--) {
    if (entries[i]?.empty_layer === true) continue;
    const at = layers[top--]?.createdAt;
    if (dated[i] === undefined && at !== undefined) dated[i] = new Date(at).toISOString();
  }
  // The time undated entries start from: the first dated entry after an undated one (the first new layer).
  let current: string | undefined;
  let undatedSeen = false;
  for (const t of dated) {
    if (t === undefined) undatedSeen = true;
    else {
      current = t;
      if (undatedSeen) break;
    }
  }
  undatedSeen = false;
  return dated.map((t) => {
    if (t === undefined) {
      undatedSeen = true;
      return current ?? now;
    }
    if (undatedSeen) current = t;
    return t;
  });
}

function imageConfig(base: ImageConfig, diffIds: readonly Digest[], times: { history: readonly (string | undefined)[]; now?: string }): ImageConfig {
  const history = base.history?.map((h, i): HistoryEntry => {
    const { created: _created, ...rest } = h;
    const c = times.history[i];
    return c === undefined ? rest : { ...rest, created: c };
  });
  // The image was made when its last dated history entry was (BuildKit's rule); without one, at the config's own time, else now.
  const created = [...(history ?? [])].reverse().find((h) => h.created !== undefined)?.created ?? base.created ?? times.now;
  const { created: _created, history: _history, ...rest } = base;
  return {
    ...rest,
    ...(created === undefined ? {} : { created }),
    rootfs: { type: 'layers', diff_ids: [...diffIds] },
    ...(history === undefined ? {} : { history }),
  };
}

function platformOf(config: ImageConfig): Platform {
  return { os: config.os, architecture: config.architecture, ...(config.variant === undefined ? {} : { variant: config.variant }) };
}
