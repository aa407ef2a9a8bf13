import type PQueue from 'p-queue';
import { limitExecutor } from './exec-slots.js';
import { basename, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DockerfileError, InternalError, UsageError } from '../base/errors.js';
import { hostPlatform } from '../base/oci.js';
import type { ProgressSink } from '../base/progress.js';
import { compileDockerfile, FindingsError, readIgnoreFile, type BuildWarning } from '../frontend/index.js';
import { createSolver, type SharedCalls, type SolveOutcome, type SourcePin } from '../solver/index.js';
import {
  createImageResolver,
  createOpRunner,
  type ImageResolverOptions,
  withImportedCache,
  LocalSshAgentProvider,
  type ImportedCache,
  type SecretProvider,
  type SolvedRef,
  type SshAgentProvider,
} from '../solver/ops/index.js';
import type { Executor } from '../executor/index.js';
import { createCacheMountStore, registerJob } from '../cache/index.js';
import { loadContext, readContextIgnore, readDockerfile } from './context.js';
import { checkEntitlements, localSecretProvider, openSshAgents } from './session.js';
import { checkStepPlatforms, workerPlatforms } from './emulation.js';
import { exportEpoch, exportOutputs, type ExportDeps, type ExportSubject, type ExportSummary } from './outputs.js';
import { createBuildAttester } from './attestations.js';
import { ImageResolutions } from './provenance-capture.js';
import { createLayerPrefetch } from './layer-prefetch.js';
import { cacheExportsOf, compileExcludes, inspectResult, loadNamedContexts, namedContextsOf, runSettingsOf, sourceDateEpochOf, withLabels } from './build-extras.js';
import { exportCaches, importCaches, withInlineCache, type CacheExportSubject, type CacheLayerSettings, type CacheTransferDeps } from './cache-transfer.js';
import type { BuildRequest, BuildResult } from './request.js';
import type { Store } from './store.js';
import { openRegistryAccess } from './registry-access.js';
import { tagPolicyFor } from './resolve-settings.js';
import { createStoredBlobLocations } from './stored-blob-locations.js';
import { createSolvedRootfs, type SolvedResult } from './solved-rootfs.js';
import { describeRequest, describeResult } from './describe-result.js';
import { createSourceDateResolver } from './source-date.js';
import { formatReference } from '../registry/index.js';

/** BuildServices are the long-lived parts a build uses, owned by the controller. */
export interface BuildServices {
  readonly store: Store;
  readonly executor: () => Promise<Executor>;
  /** Calls shared by the builds of the controller, so identical steps of concurrent builds run once. */
  readonly shared: SharedCalls<SolvedRef>;
  /** Slots bounding the processes running at once, shared by the builds of the controller. */
  readonly execSlots: PQueue;
}

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
  /** Told when the build leaves the queue and starts running. */
  readonly started?: () => void;
}

type BuildOptions = BuildIO;

/** PlatformSolved is one platform's finished solve, handed to the export of every platform. */
export interface PlatformSolved {
  readonly subject: ExportSubject;
  readonly deps: ExportDeps;
  readonly cache: CacheExportSubject;
  readonly transfer: CacheTransferDeps;
}

/**
 * PlatformRun is one platform of several built together: its steps name the platform, and its outputs and caches are
 * written by `exportAll` with every platform's, while this build waits.
 */
export interface PlatformRun {
  readonly exportAll: (solved: PlatformSolved) => Promise<ExportSummary>;
}

/**
 * runBuild compiles a Dockerfile, solves its graph and exports the outputs. Base images whose stored resolution has
 * expired are used while their tags are checked; when one moved, the build is made again on the new image.
 */
export async function runBuild(request: BuildRequest, services: BuildServices, options: BuildOptions, platformRun?: PlatformRun): Promise<BuildResult> {
  const started = Date.now();
  const warned = new Set<string>();
  const first: ProgressSink = {
    emit: (e) => {
      if (e.type === 'warning') warned.add(e.message);
      options.progress.emit(e);
    },
  };
  const result = await attemptBuild(request, services, { ...options, progress: first }, { speculative: true }, platformRun);
  if (result !== undefined) return result;
  // The Dockerfile's warnings were shown by the first attempt.
  const progress: ProgressSink = { emit: (e) => void (e.type === 'warning' && warned.has(e.message) ? undefined : options.progress.emit(e)) };
  const again = await attemptBuild(request, services, { ...options, progress }, { speculative: false, confirmedSince: started }, platformRun);
  if (again === undefined) throw new InternalError('Cannot build: a base image moved while its tag was checked before use');
  return again;
}

/** showWarnings reports the Dockerfile's check findings as progress and returns them as text lines. */
function showWarnings(found: readonly BuildWarning[], progress: ProgressSink): string[] {
  return found.map((w) => {
    const where = w.location ? `${w.location.file}:${w.location.startLine}` : undefined;
    const finding = { rule: w.rule, description: w.description, detail: w.message, ...(w.url === undefined ? {} : { url: w.url }), ...(w.location ? { location: w.location } : {}) };
    progress.emit({ type: 'warning', message: `${w.rule}: ${w.message}`, ...(where ? { location: where } : {}), finding, time: Date.now() });
    return `${w.rule}: ${w.message}${where ? ` (${where})` : ''}`;
  });
}

/** attemptBuild builds once; undefined means a base image's tag moved after the build went ahead on its stored resolution. */
async function attemptBuild(
  request: BuildRequest,
  services: BuildServices,
  options: BuildOptions,
  resolution: Pick<ImageResolverOptions, 'speculative' | 'confirmedSince'>,
  platformRun: PlatformRun | undefined,
): Promise<BuildResult | undefined> {
  const { store } = services;
  const { signal, progress } = options;
  await using _job = await registerJob(store.meta);
  const startedOn = new Date();
  const text = (await readDockerfile(request.dockerfile)).toString('utf8');
  const describe = describeRequest(request.print);
  if (describe !== undefined) return describeResult(request, text, describe);
  await using registry = await openRegistryAccess(request.registryConfigPath, createStoredBlobLocations(store.meta));
  const policy = await tagPolicyFor(request.registryConfigPath);
  await using images = createImageResolver({ client: registry.client, meta: store.meta, progress, pull: request.pull === true, policy, ...resolution });
  const platform = request.platform ?? hostPlatform();
  // What the provenance records: the digest each image reference named, and what git and http sources resolved to.
  const resolutions = new ImageResolutions();
  const pins = new Map<string, SourcePin>();
  const contextIgnore = request.contextDir === '' ? undefined : readIgnoreFile(await readContextIgnore(resolve(request.contextDir), request.dockerfile));
  const definition = await compileDockerfile(text, {
    file: basename(request.dockerfile),
    buildArgs: request.buildArgs,
    ...(request.target === undefined ? {} : { target: request.target }),
    targetPlatform: platform,
    buildPlatform: hostPlatform(),
    ...(request.platform === undefined ? { implicitTargetPlatform: { workerPlatforms } } : {}),
    ...(platformRun === undefined ? {} : { platformPrefix: true }),
    resolveImageConfig: async (ref, o) => {
      const r = await images.resolve(ref, o);
      resolutions.add(formatReference(r.ref), r.digest, r.namedDigest, r.config.rootfs.diff_ids);
      return { ref: formatReference(r.ref), digest: r.digest, config: r.config };
    },
    noCache: request.noCache,
    noCacheFilter: request.noCacheFilter,
    namedContexts: namedContextsOf(request.buildContexts ?? []),
    run: runSettingsOf(request),
    ...(request.check === true ? { checkOnly: true } : {}),
    ...(contextIgnore === undefined ? {} : { contextIgnore }),
    resolveSourceDate: createSourceDateResolver(request.contextSourceDate),
    signal,
  }).catch((err: unknown) => {
    // The findings made before a Dockerfile error are shown with it, as BuildKit shows them.
    if (err instanceof FindingsError) showWarnings(err.warnings, progress);
    throw err;
  });
  const warnings = showWarnings(definition.warnings, progress);
  if (request.check === true || request.print !== undefined) return (await images.checked()) ? undefined : inspectResult(request, definition, warnings);
  if (definition.violation !== undefined) {
    const first = definition.warnings[0]?.location;
    throw new DockerfileError(definition.violation, { code: 'DOCKERFILE_CHECK', ...(first === undefined ? {} : { location: first }) });
  }
  if (definition.root !== null) checkEntitlements(definition.root.vertex, request.allow ?? []);
  // A RUN step for a platform no emulator runs fails now, naming the fix, not midway with "exec format error".
  if (definition.root !== null) await checkStepPlatforms(definition.root.vertex);
  const context = await loadContext(resolve(request.contextDir), request.dockerfile, contextIgnore);
  await using ssh = await openSshAgents(request.ssh ?? [], signal);
  await using prefetch = createLayerPrefetch(definition.root?.vertex, { outputs: request.outputs, store, ...sourceDateEpochOf(definition), signal });
  await using runner = createOpRunner({
    meta: store.meta,
    cacheKeys: store.cacheKeys,
    content: store.content,
    snapshotter: store.snapshotter,
    layerBlobs: store.layerBlobs,
    executor: limitExecutor(services.executor, services.execSlots),
    registry: registry.client,
    images,
    contexts: new Map([...(await loadNamedContexts(request.buildContexts ?? [])), ['context', context]]),
    excludeMatcher: compileExcludes,
    cacheMounts: createCacheMountStore(store.root, store.tmp),
    secrets: options.secrets ?? localSecretProvider(request.secrets ?? []),
    sshAgents: options.sshAgents ?? new LocalSshAgentProvider(ssh.sockets),
    ...(request.network === undefined ? {} : { network: request.network }),
    snapshotCommitted: prefetch.committed,
    sourcePinned: (vertex, pin) => void pins.set(vertex, pin),
  });
  const job = { id: randomBytes(8).toString('hex'), signal, progress };
  const transfer = { store, registry: registry.client, locations: registry.locations, signal, progress };
  const imported = await importCaches(request.cacheFrom ?? [], transfer, platform);
  let result: SolvedResult = { kind: 'snapshot', snapshotId: null };
  let outcome: SolveOutcome<SolvedRef> | undefined;
  if (definition.root !== null) {
    const solver = createSolver<SolvedRef>(imported === undefined ? runner : withImportedCache(runner, imported), { storage: store.cacheKeys, shared: services.shared });
    // Outputs made of files unpack the result anyway: loading it in the solve runs a step whose cached layers are unusable.
    try {
      outcome = await solver.solve(definition.root.vertex, job, { load: request.outputs.some((o) => o.type === 'local' || o.type === 'tar') });
    } catch (err) {
      // A moved base stops the solve before anything is built on its old image. A failed check is reported by the
      // step that used the image, with its Dockerfile line.
      if (await images.moved()) return undefined;
      throw err;
    }
    result = solvedResult(outcome.result, imported);
  }
  if (await images.checked()) return undefined;
  const rootfs = createSolvedRootfs(result, { store, signal, progress });
  const cacheSubject = { outcome, rootfs, imported };
  const cacheTo = cacheExportsOf(request);
  const inline = inlineLayers(request.outputs, sourceDateEpochOf(definition).sourceDateEpoch);
  const image = await withInlineCache(withLabels(definition.image, request.labels), cacheTo, cacheSubject, inline, transfer);
  await prefetch.settled();
  const attester = createBuildAttester(request, {
    root: definition.root?.vertex,
    dockerfile: Buffer.from(text),
    images: resolutions,
    pins,
    startedOn,
    store,
    rootfs,
    outcome,
    imported,
    sourceDateEpoch: definition.sourceDateEpoch,
    signal,
    progress,
  });
  const subject = { rootfs, image, ...sourceDateEpochOf(definition), ...(definition.base === undefined ? {} : { base: definition.base }), ...(attester === undefined ? {} : { attester }) };
  const deps = { store, registry: registry.client, signal, progress };
  if (platformRun !== undefined) return { ...(await platformRun.exportAll({ subject, deps, cache: cacheSubject, transfer })), warnings };
  const exported = await exportOutputs(request.outputs, subject, deps);
  await exportCaches(cacheTo, [cacheSubject], transfer);
  return { ...exported, warnings };
}

/** solvedResult checks that the build made a filesystem (not just the context) and pairs an imported one with its cache. */
function solvedResult(result: SolvedRef, imported: ImportedCache | undefined): SolvedResult {
  switch (result.kind) {
    case 'snapshot':
      return result;
    case 'local':
      throw new UsageError('Cannot export a build whose result is the build context itself');
    case 'imported':
      if (imported === undefined) throw new InternalError(`Cannot export cache record ${result.key}: no cache was imported`);
      return { kind: 'imported', ref: result, cache: imported };
  }
}

/**
 * inlineLayers is how the first image output makes its layers, which an inline cache must match: its compression, and
 * with rewrite-timestamp the epoch it clamps file times to.
 */
function inlineLayers(outputs: BuildRequest['outputs'], resolved: string | undefined): CacheLayerSettings {
  for (const o of outputs) if ('image' in o) return { compression: o.image.compression, ...(o.image.rewriteTimestamp === true ? exportEpoch(o.image, resolved) : {}) };
  return { compression: 'gzip' };
}

/** dockerfilePath resolves `-f` against the context like docker build does (default: Dockerfile in the context). */
export function dockerfilePath(contextDir: string, file: string | undefined): string {
  return file === undefined ? join(contextDir, 'Dockerfile') : resolve(file);
}
