/**
 * Registry references and settings, and the types of the registry client. The client itself, and everything that talks
 * to a registry or writes credentials, is in `lazy.ts`, loaded with `import()` on first use.
 */
export type { DisposableRegistryClient, PushOptions, ReferrerDescriptor, RegistryClient, RegistryClientOptions } from './client.js';
export { EMPTY_REGISTRY_CONFIG, loadRegistryConfig, parseRegistryConfig, readSettings, readSettingsTable, readSharedCacheSettings } from './config.js';
export type { CacheHostSettings, SharedCacheSettings } from './shared-cache-settings.js';
export type { RegistryConfig, RegistryHostConfig } from './config.js';
export type { CredentialStore, Credentials, DockerConfig } from './credentials.js';
export type { BlobOpener, PushImage, PushProgress } from './push.js';
export { DEFAULT_REGISTRY, DEFAULT_TAG, familiarName, familiarString, formatReference, parseReference, referrersTag, withDigest } from './reference.js';
export type { Reference } from './reference.js';
export type { FetchedManifest, ResolvedImage } from './resolve.js';
export { selectPlatformManifest } from './platform-match.js';
export { createMemoryBlobLocations, type BlobLocations } from './blob-locations.js';
export type { BlobRange } from './blob-upload.js';
export type { SavedLogin } from './docker-config-write.js';
