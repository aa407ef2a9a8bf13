/**
 * The remote builder: `tbuild serve` (gRPC server) and the client behind `--builder`. This entry holds what commands
 * read before they talk to a builder (addresses, named builders) and loads no gRPC, TLS or DNS: every command reads it
 * to find its builder, embedded builds too. How a build picks its server, the client and the server are in lazy.ts.
 */
export { parseAddress, parseNodeAddress, isAddress, DEFAULT_PORT, type BuilderAddress, type NodeAddress } from './address.js';
export { BuilderStore, EMBEDDED_BUILDER, checkBuilderName, type BuilderNode, type BuilderRecord } from './builder-store.js';
export type { BuilderSpec, LookupAll, NodeFailure, NodeTarget, ResolvedNodes } from './node-ranking.js';
export { createLogger, type Logger, type LogFormat } from '../base/log.js';
export type { BuilderServer, ServerOptions } from './server.js';
export type { BuilderConnection, RemoteBuildResult, UnaryCallOptions } from './client.js';
export type { RemoteHistory } from './history-client.js';
export type { PickOptions, Probe, RunOnNodeOptions } from './builder-route.js';
export type { NodeStatus } from './builder-status.js';
export type { TlsFiles } from './auth.js';
export type { InfoMsg } from './admin-messages.js';
