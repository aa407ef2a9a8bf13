/** Op runners: how each op kind of the graph is keyed, looked up and carried out. */
export { createOpRunner } from './runner.js';
export { createImageResolver, type ImageResolver, type ImageResolverOptions } from './image-resolver.js';
export { LAYOUT_SCHEME, layoutRef, parseLayoutRef, withLayoutImages, type LayoutBlobs } from './layout-images.js';
export { DEFAULT_TAG_POLICY, type TagPolicy } from './tag-check.js';
export type { OpDeps } from './deps.js';
export type { FailedExec } from './exec.js';
export { LocalSecretProvider, type SecretProvider, type SecretSource } from './secret-provider.js';
export { listenAgentSocket, LocalSshAgentProvider, type AgentListener, type SshAgentOwner, type SshAgentProvider, type SshAgentSocket } from './ssh-agent-provider.js';
export type { Ref, SnapshotRef, LocalRef, LocalContext, ImportedLayer, ImportedRef, SolvedRef } from './ref.js';
export type { ContextScan, ContextWatches, WatchedContext } from './context-reuse.js';
export { createImportedCache, withImportedCache, type FetchOptions, type ImportedCache, type ImportedCacheDeps } from './imported-cache.js';
export { loadCache, localCacheSource, registryCacheSource, type CacheBlobSource, type LoadedCache } from './cache-source.js';
export { extractArchive, isTarArchive, newestFileTime } from './archive.js';
export { loadGitSource, loadHttpSource } from './remote-source.js';
export { chainIds } from './image-source.js';
export { layerRecordKey } from './stored-snapshot.js';
