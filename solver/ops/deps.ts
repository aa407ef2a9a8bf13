import type { ContentStore } from '../../cache/content-store.js';
import type { LayerBlobStore } from '../../cache/layer-blob-store.js';
import type { MetadataStore } from '../../cache/metadata.js';
import type { Snapshotter } from '../../cache/snapshotter.js';
import type { Executor } from '../../executor/index.js';
import type { RegistryClient } from '../../registry/index.js';
import type { ImageResolver } from './image-resolver.js';
import type { LocalContext } from './ref.js';

/** OpDeps is everything op runners use, wired by the controller. */
export interface OpDeps {
  readonly meta: MetadataStore;
  readonly content: ContentStore;
  readonly snapshotter: Snapshotter;
  readonly layerBlobs: LayerBlobStore;
  /** The executor is made on first use, so cached builds never load it. */
  readonly executor: () => Executor;
  readonly registry: () => RegistryClient;
  readonly images: ImageResolver;
  readonly contexts: ReadonlyMap<string, LocalContext>;
}
