/** The remote builder: `tbuild serve` (gRPC server) and the client behind `--builder`. */
export { startServer, type BuilderServer, type ServerOptions } from './server.js';
export { remoteBuild, remoteDiskUsage, remoteHealth, remoteInfo, remotePrune, type BuilderConnection, type RemoteBuildResult } from './client.js';
export { remoteHistory, type RemoteHistory } from './history-client.js';
export { parseAddress, DEFAULT_PORT, type BuilderAddress } from './address.js';
export { createLogger, type Logger, type LogFormat } from '../base/log.js';
export type { TlsFiles } from './auth.js';
export type { InfoMsg } from './admin-messages.js';
export { parseNodeAddress, isAddress, type NodeAddress } from './address.js';
export { BuilderStore, EMBEDDED_BUILDER, checkBuilderName, type BuilderNode, type BuilderRecord } from './builder-store.js';
export { pickNode, rankNodes, resolveNodes, healthProbe, systemLookup, type BuilderSpec, type LookupAll, type NodeFailure, type NodeTarget, type PickOptions, type Probe, type ResolvedNodes } from './builder-route.js';
export type { UnaryCallOptions } from './client.js';
export { builderStatus, type NodeStatus } from './builder-status.js';
