import { digestOf, type Digest } from '../base/digest.js';
import { canonicalJson } from '../base/canonical-json.js';
import { MEDIA_TYPES, type Descriptor, type HistoryEntry, type ImageConfig, type ImageManifest, type Platform } from '../base/oci.js';
import type { ContentIngester, ContentProvider, ContentStore } from '../cache/content-store.js';
import { exportLayerBlob, type ExportLayer } from './export-layer.js';
import type { Compression, LayerBlob, LayerBlobCache } from './layer/index.js';

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
  /** sourceDateEpoch clamps layer mtimes and the config's creation times (seconds since the epoch). */
  readonly sourceDateEpoch?: number;
  /** created is the image's creation time when the config has none (RFC 3339; clamped by sourceDateEpoch). */
  readonly created?: string;
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
  const layers: LayerBlob[] = [];
  // One layer at a time: each compression already uses every core.
  for (const layer of input.layers) {
    signal.throwIfAborted();
    layers.push(await exportLayerBlob(layer, { ...options, store: options.layerStore ?? store }));
  }
  const base = input.config.created === undefined && options.created !== undefined ? { ...input.config, created: options.created } : input.config;
  const config = imageConfig(base, layers.map((l) => l.diffId), options.sourceDateEpoch);
  const configBytes = Buffer.from(canonicalJson(config));
  // With the digest known up front, a rebuild that made the same config writes (and syncs) nothing.
  const configInfo = await store.writeBlob(configBytes, { digest: digestOf(configBytes), size: configBytes.length }, { signal });
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config: { mediaType: MEDIA_TYPES.ociConfig, digest: configInfo.digest, size: configInfo.size },
    layers: layers.map((l) => l.descriptor),
    ...(input.annotations === undefined || Object.keys(input.annotations).length === 0 ? {} : { annotations: { ...input.annotations } }),
  };
  const manifestBytes = Buffer.from(canonicalJson(manifest));
  const manifestInfo = await store.writeBlob(manifestBytes, { digest: digestOf(manifestBytes), size: manifestBytes.length }, { signal });
  const manifestDescriptor: Descriptor = {
    mediaType: MEDIA_TYPES.ociManifest,
    digest: manifestInfo.digest,
    size: manifestInfo.size,
    platform: platformOf(config),
  };
  return { manifest, manifestBytes, manifestDescriptor, config, configBytes, layers };
}

function imageConfig(base: ImageConfig, diffIds: readonly Digest[], epoch: number | undefined): ImageConfig {
  const clamp = (created: string | undefined): string | undefined => clampTime(created, epoch);
  const created = epoch === undefined ? base.created : (clamp(base.created) ?? new Date(epoch * 1000).toISOString());
  const history = base.history?.map((h): HistoryEntry => {
    const { created: hCreated, ...rest } = h;
    // Entries this build added carry no time yet: they were made now, as the image was.
    const c = clamp(hCreated ?? created);
    return c === undefined ? rest : { ...rest, created: c };
  });
  const { created: _created, history: _history, ...rest } = base;
  return {
    ...rest,
    ...(created === undefined ? {} : { created }),
    rootfs: { type: 'layers', diff_ids: [...diffIds] },
    ...(history === undefined ? {} : { history }),
  };
}

/** clampTime keeps an RFC 3339 time at or before the epoch (seconds); undefined stays undefined. */
function clampTime(created: string | undefined, epoch: number | undefined): string | undefined {
  if (created === undefined || epoch === undefined) return created;
  const ms = Date.parse(created);
  return Number.isNaN(ms) || ms > epoch * 1000 ? new Date(epoch * 1000).toISOString() : created;
}

function platformOf(config: ImageConfig): Platform {
  return { os: config.os, architecture: config.architecture, ...(config.variant === undefined ? {} : { variant: config.variant }) };
}
