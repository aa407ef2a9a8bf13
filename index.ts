/**
 * tbuild as a library: build container images from Dockerfiles in a Node.js program, with no daemon to start.
 *
 * {@link createController} opens a state folder and returns the {@link Controller} that builds with it, as the
 * `tbuild` command line, its resident builder and `tbuild serve` do. A {@link BuildRequest} carries everything a build
 * needs as values (the Dockerfile's bytes, a context source, output streams or files, the caller's environment), so one
 * controller serves concurrent builds of different callers.
 *
 * @example
 * ```ts
 * import { createController } from 'tbuild';
 *
 * await using controller = await createController({ root: '/var/lib/tbuild' });
 * const result = await controller.build(
 *   {
 *     dockerfile: { name: 'Dockerfile', bytes: Buffer.from('FROM busybox\nRUN echo hello > /hello\n') },
 *     context: { kind: 'none' },
 *     outputs: [{ type: 'oci', dest: 'hello.tar', names: ['hello:latest'], image: { compression: 'gzip', forceCompression: false } }],
 *   },
 *   { signal: AbortSignal.timeout(600_000), progress: { emit: (event) => console.log(event.type) } },
 * );
 * console.log(result.imageId);
 * ```
 *
 * @packageDocumentation
 */
export { createController } from './controller/index.js';
export type {
  BuildContextSpec,
  BuildEnvironment,
  BuildHistory,
  BuildIO,
  BuildRecord,
  BuildRequest,
  BuildResult,
  BuildState,
  CacheExportSpec,
  CacheImportSpec,
  ContextSource,
  Controller,
  ControllerInfo,
  ControllerOptions,
  DockerfileBytes,
  DockerfileSource,
  Entitlement,
  ImageExportOptions,
  ImageSummary,
  LayerCompression,
  NetworkPoolStats,
  OciRuntime,
  OutputDest,
  OutputSpec,
  PrintKind,
  PruneOptions,
  PruneReport,
  ReceivedContext,
  RemovedImage,
  SecretProvider,
  SecretSpec,
  SshAgentProvider,
  SshSpec,
  UsageRecord,
  UsageRecordType,
} from './controller/index.js';
export type { ProgressEvent, ProgressSink } from './base/progress.js';
export type { Platform } from './base/oci.js';
export type { Logger } from './base/log.js';
export { TbuildError, CancelledError, DockerfileError, ExecError, UsageError } from './base/errors.js';
