import { InternalError } from '../base/errors.js';
import { hostPlatform } from '../base/oci.js';
import type { ProgressSink } from '../base/progress.js';
import { createImageResolver, withLayoutImages, type ImageResolverOptions, type LayoutBlobs, type SecretProvider, type SshAgentProvider } from '../solver/ops/index.js';
import { createCompileStage, type CompileStage } from './compile.js';
import type { DebugShell } from './debug-shell.js';
import { createBuildAttester, metadataProvenance, type ImageAttester } from './attestations.js';
import { createExportStage, type PreparedExport } from './export.js';
import type { ExportSummary } from './exporters/types.js';
import type { CredentialStore } from '../registry/index.js';
import { openRegistryAccess } from './registry-access.js';
import type { BuildEnvironment, BuildRequest, BuildResult } from './request.js';
import { tagPolicyFor } from './resolve-settings.js';
import type { BuildInputs } from './resolve-inputs.js';
import { solve, type SolveServices } from './solve.js';
import { createStoredBlobLocations } from './stored-blob-locations.js';
import type { SolvedRootfs } from './solved-rootfs.js';
import type { BuildObserver } from './history-recorder.js';

/** BuildIO is what one build talks to while it runs, besides its request. */
export interface BuildIO {
  /** Cancels the build; it then rejects with the signal's reason. */
  readonly signal: AbortSignal;
  /** Receives the build's progress events (vertices, logs, warnings). */
  readonly progress: ProgressSink;
  /** Where secret values come from instead of request.secrets (a remote client serving them on request). */
  readonly secrets?: SecretProvider;
  /** Where SSH agents come from instead of request.ssh (a remote client forwarding them on request). */
  readonly sshAgents?: SshAgentProvider;
  /** Where registry credentials come from instead of the request's Docker config (a remote client answering for its own). */
  readonly registryCredentials?: CredentialStore;
  /** The OCI layouts of `oci-layout://` contexts, by context name, when a remote client serves them on request. */
  readonly layouts?: ReadonlyMap<string, LayoutBlobs>;
  /** Who asks for the build, as the build history records it (a remote client's id). */
  readonly clientId?: string;
  /** The tenant the build comes from (`tbuild serve`'s named tokens and certificates), as records and the build list keep it. */
  readonly tenant?: string;
  /** Told the build's id as soon as the controller has it, before its inputs are ready. */
  readonly accepted?: (buildId: string) => Promise<void> | void;
  /** Told when the build leaves the queue and starts running. */
  readonly started?: () => void;
  /**
   * Settles once the caller has given its client the build's outcome (a resident builder's exit status, a server's
   * reply): a built result's history record is then committed after it, off the client's wait.
   */
  readonly answered?: Promise<unknown>;
  /** Told the keys and Dockerfile the build computes, for its history record (the controller sets it). */
  readonly observer?: BuildObserver;
  /** Opens a shell in the container of a RUN that fails, once the rest of the build has stopped (`--on-error=shell`). */
  readonly debugShell?: DebugShell;
}

/**
 * PlatformRun is one platform of several built together: its steps name the platform, and its outputs and caches are
 * written by `exportAll` with every platform's, while this build waits.
 */
export interface PlatformRun {
  readonly exportAll: (prepared: PreparedExport) => Promise<ExportSummary>;
}

/** PipelineRequest is what the pipeline itself reads of a request: the settings file and the registry session. */
type SessionRequest = Pick<BuildRequest, 'registryConfigPath' | 'pull'> & { readonly environment?: Pick<BuildEnvironment, 'dockerConfigDir'> };

/**
 * runPipeline builds a request whose inputs are ready: compile, solve, export. Base images whose stored resolution has
 * expired are used while their tags are checked; when one moved, the build is made again on the new image.
 */
export async function runPipeline(request: BuildRequest, inputs: BuildInputs, services: SolveServices, io: BuildIO, platformRun?: PlatformRun): Promise<BuildResult> {
  const compiler = createCompileStage(request, inputs, { platformPrefix: platformRun !== undefined });
  if (compiler.described !== undefined) return compiler.described;
  const started = Date.now();
  const warned = new Set<string>();
  const first: ProgressSink = {
    emit: (e) => {
      if (e.type === 'warning') warned.add(e.message);
      io.progress.emit(e);
    },
  };
  const result = await attemptBuild(request, compiler, inputs, services, { ...io, progress: first }, { speculative: true }, platformRun);
  if (result !== undefined) return result;
  // The Dockerfile's warnings were shown by the first attempt.
  const progress: ProgressSink = { emit: (e) => void (e.type === 'warning' && warned.has(e.message) ? undefined : io.progress.emit(e)) };
  const again = await attemptBuild(request, compiler, inputs, services, { ...io, progress }, { speculative: false, confirmedSince: started }, platformRun);
  if (again === undefined) throw new InternalError('Cannot build: a base image moved while its tag was checked before use');
  return again;
}

/** attemptBuild builds once; undefined means a base image's tag moved after the build went ahead on its stored resolution. */
async function attemptBuild(
  request: BuildRequest,
  compiler: CompileStage,
  inputs: BuildInputs,
  services: SolveServices,
  io: BuildIO,
  resolution: Pick<ImageResolverOptions, 'speculative' | 'confirmedSince'>,
  platformRun: PlatformRun | undefined,
): Promise<BuildResult | undefined> {
  const { store } = services;
  const { signal, progress } = io;
  // Everything the build finds or makes in the store is leased until it ends: collection elsewhere keeps it.
  await using _lease = await store.lease.hold();
  const startedOn = new Date();
  const session: SessionRequest = request;
  await using registry = await openRegistryAccess(session.registryConfigPath, createStoredBlobLocations(store.meta), session.environment?.dockerConfigDir, io.registryCredentials);
  const policy = await tagPolicyFor(session.registryConfigPath);
  await using images = withLayoutImages(createImageResolver({ client: registry.client, meta: store.meta, progress, pull: session.pull === true, policy, ...resolution }), inputs.layouts);
  const compiled = await compiler.compile(images, { signal, progress });
  if (compiled.kind === 'inspected') return (await images.checked()) ? undefined : compiled.result;
  await using exporter = createExportStage(request, compiled, { store, signal });
  await using solved = await solve(request, compiled.definition, inputs, services, {
    registry,
    images,
    signal,
    progress,
    snapshotCommitted: exporter.snapshotCommitted,
    unpacksResult: exporter.unpacksResult,
    platform: request.platform ?? hostPlatform(),
    ...(io.observer === undefined ? {} : { observer: io.observer }),
  });
  if (solved === undefined || (await images.checked())) return undefined;
  // The provenance records the whole request, as BuildKit's records the frontend's options.
  const capture = {
    root: compiled.definition.root?.vertex,
    dockerfile: Buffer.from(inputs.dockerfile.text),
    dockerfileName: inputs.dockerfile.name,
    contextOrigin: inputs.contextOrigin,
    layoutDigests: inputs.layoutDigests,
    images: compiled.images,
    pins: solved.pins,
    startedOn,
  };
  const attester = (rootfs: SolvedRootfs): ImageAttester | undefined =>
    createBuildAttester(request, {
      ...capture,
      store,
      rootfs,
      outcome: solved.outcome,
      imported: solved.imported,
      sourceDateEpoch: compiled.definition.sourceDateEpoch,
      signal,
      progress,
    });
  const prepared = await exporter.prepare(solved, { registry, signal, progress, attester });
  const exported = platformRun === undefined ? await exporter.write(prepared) : await platformRun.exportAll(prepared);
  const provenanceJson = await metadataProvenance(request, capture);
  return { ...exported, warnings: compiled.warnings, ...(provenanceJson === undefined ? {} : { provenance: [{ json: provenanceJson }] }) };
}
