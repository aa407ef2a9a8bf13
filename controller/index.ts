/** The controller: one build from request to outputs, shared by the CLI and the server. */
export { runBuild, dockerfilePath, type BuildServices } from './build.js';
export { openStore, defaultRoot, type Store } from './store.js';
export { removeImages, type RemovedImage } from './image-removal.js';
export { prepareFetchedContext, type FetchedContext } from './context-file.js';
export { fetchRemoteContext } from './remote-context.js';
export type { BuildRequest, BuildResult, OutputSpec, ImageExportOptions, LayerCompression, SecretSpec, SshSpec, Entitlement, CacheExportSpec, CacheImportSpec, BuildContextSpec } from './request.js';
export { loginToRegistry, logoutFromRegistry, type LoginRequest } from './login.js';
export { collectGarbage, defaultGcPolicy, type GcPolicy } from './auto-gc.js';
export { gcPolicyFor } from './gc-settings.js';
export { tagPolicyFor } from './resolve-settings.js';
export { createExecSlots } from './exec-slots.js';
export { readContextIgnore, readDockerfile } from './context.js';
export { localSecretProvider } from './session.js';
export type { SecretProvider, SshAgentOwner, SshAgentProvider, SshAgentSocket } from '../solver/ops/index.js';
export { listenAgentSocket, type AgentListener } from '../solver/ops/index.js';
export { dumpAst, parseDockerfile, readIgnoreFile } from '../frontend/index.js';
export { ContextFilter } from './context-filter.js';
export { walkContext, type ContextEntry } from './context-walk.js';
