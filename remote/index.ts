/** The remote builder: `tbuild serve` (gRPC server) and the client behind `--builder`. */
export { startServer, type BuilderServer, type ServerOptions } from './server.js';
export { remoteBuild, remoteDiskUsage, remoteHealth, remoteInfo, remotePrune, type BuilderConnection, type RemoteBuildResult } from './client.js';
export { remoteHistory, type RemoteHistory } from './history-client.js';
export { parseAddress, DEFAULT_PORT, type BuilderAddress } from './address.js';
export { createLogger, type Logger, type LogFormat } from '../base/log.js';
export type { TlsFiles } from './auth.js';
export type { InfoMsg } from './admin-messages.js';
