/**
 * The remote builder's client and server: the folder's second entry, which code outside remote/ loads only with
 * `import()`, when a command talks to a builder or serves one. An embedded build never loads it (gRPC, TLS and HTTP/2;
 * test/integration/start-cost.test.ts).
 */
export { startServer } from './server.js';
export { parseTenantSettings, type TenantSettings } from './tenant-settings.js';
export { remoteBuild, remoteDiskUsage, remoteHealth, remoteInfo, remotePrune } from './client.js';
export { remoteHistory } from './history-client.js';
export { pickNode, healthProbe, runOnNode } from './builder-route.js';
export { rankNodes, resolveNodes, systemLookup } from './node-ranking.js';
export { isUnreached } from './client-errors.js';
export { builderStatus } from './builder-status.js';
