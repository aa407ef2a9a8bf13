import type { Platform } from '../base/oci.js';

/** Compression is how layer blobs are compressed on export. */
export type LayerCompression = 'gzip' | 'zstd' | 'uncompressed';

/** ExportOptions are the options every image output shares. */
export interface ImageExportOptions {
  readonly compression: LayerCompression;
  readonly compressionLevel?: number;
  readonly forceCompression: boolean;
}

/** OutputSpec is one `--output`: where the result of a build goes. */
export type OutputSpec =
  | { readonly type: 'image'; readonly names: readonly string[]; readonly push: boolean; readonly image: ImageExportOptions }
  | { readonly type: 'oci' | 'docker'; readonly dest: string; readonly names: readonly string[]; readonly image: ImageExportOptions }
  | { readonly type: 'load'; readonly names: readonly string[]; readonly image: ImageExportOptions }
  | { readonly type: 'local' | 'tar'; readonly dest: string };

/** BuildRequest is everything one build needs from its caller. */
export interface BuildRequest {
  readonly contextDir: string;
  /** Path of the Dockerfile on disk. */
  readonly dockerfile: string;
  readonly buildArgs: ReadonlyMap<string, string>;
  readonly target?: string;
  readonly platform?: Platform;
  readonly outputs: readonly OutputSpec[];
  readonly noCache: boolean;
  readonly noCacheFilter: readonly string[];
  readonly registryConfigPath?: string;
  /** Resolve base images in the registry again instead of using what the store knows. */
  readonly pull?: boolean;
}

/** BuildResult is what a finished build produced. */
export interface BuildResult {
  /** Digest of the image config (the image ID), when an image was made. */
  readonly imageId?: string;
  /** Digest of the image manifest, when an image was made. */
  readonly manifestDigest?: string;
  readonly pushedDigest?: string;
  readonly names: readonly string[];
  readonly warnings: readonly string[];
}
