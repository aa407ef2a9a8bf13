/** executor runs RUN processes in sandboxes described by OCI runtime specs. */
export type {
  ExecMount,
  ExecRequest,
  ExecResources,
  ExecResult,
  ExecUsage,
  Executor,
  NetworkMode,
  OverlayRootfs,
  ProcessSpec,
  ResolvedUser,
  SecurityMode,
} from './types.js';
export { defaultSeccompProfile, type SeccompSpec, type SeccompRule, type SeccompArg, type SeccompAction } from './seccomp-profile.js';
export { createNamespaceExecutor, type NamespaceExecutorOptions } from './namespace-executor.js';
export { createRuncExecutor, type RuncExecutorOptions } from './runc-executor.js';
export { createNetworkPool, type NetworkPool, type NetworkPoolOptions, type NetworkPoolStats } from './network-pool.js';
export type { NetworkProvider, NetworkRequest, SandboxNetwork } from './sandbox-network.js';
export {
  buildRuntimeSpec,
  DEFAULT_CAPABILITIES,
  MASKED_PATHS,
  READONLY_PATHS,
  type RuntimeMount,
  type RuntimeSpec,
  type SpecInput,
  type SpecRoot,
} from './spec.js';
export { resolveUser, rootfsTree } from './user.js';
export {
  chooseOverlayDriver,
  detectOverlayDriver,
  probeKernelOverlay,
  probeKernelOverlayOnce,
  FUSE_OVERLAYFS,
  type KernelProbe,
  type OverlayDecision,
  type OverlayDriver,
  type OverlayDriverOptions,
  type OverlayFacts,
  type OverlaySetting,
} from './overlay-driver.js';
export { mountOverlay, unmountOverlay } from './overlay-mount.js';
export type { ExecTerminal, TerminalSize } from './terminal.js';
export { findHelper } from './helper-path.js';
export { BINFMT_MISC_DIR, handlerPlatforms, readBinfmtState, type BinfmtHandler, type BinfmtState } from './binfmt.js';
export { installEmulators, uninstallEmulators, type BinfmtChange, type BinfmtPaths } from './binfmt-register.js';
export { detectRunnablePlatforms, runnerOf, type DetectOptions, type EmulatedPlatform, type RunnablePlatforms, type UnusableEmulator } from './runnable-platforms.js';
