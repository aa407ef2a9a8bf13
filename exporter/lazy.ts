/**
 * The outputs besides the local image store (OCI, Docker and rootfs archives, folders, docker load), image indexes,
 * cache exports and attestations: the folder's second entry, which code outside exporter/ loads on first use. A build
 * whose result only goes to the image store does not load it (test/integration/start-cost.test.ts).
 */
export { writeOciArchive, ociIndexFor } from './oci-archive.js';
export { writeDockerArchive, writeSavedArchive } from './docker-archive.js';
export { writeLocalDir } from './local-dir.js';
export { SharedPaths } from './shared-paths.js';
export { storePlatformIndex, writeOciIndexArchive, writeRootfsTars } from './image-index.js';
export { writeRootfsTar } from './rootfs-tar.js';
export { loadIntoDocker, dockerEndpoint } from './docker-load.js';
export { buildCacheConfig, pushCacheArtifact, writeCacheArtifact, writeCacheLayout } from './cache-export.js';
export * from './attestation/index.js';
