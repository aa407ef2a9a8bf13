import { randomBytes } from 'node:crypto';
import type PQueue from 'p-queue';
import { DockerfileError, InternalError, UsageError } from '../base/errors.js';
import type { Platform } from '../base/oci.js';
import type { ProgressSink } from '../base/progress.js';
import type { Executor } from '../executor/index.js';
import type { BuildDefinition } from '../frontend/index.js';
import { createSolver, type SharedCalls, type SolveOutcome, type SourcePin } from '../solver/index.js';
import { walkVertices, type Vertex } from '../solver/graph/index.js';
import { createOpRunner, withImportedCache, type ContextWatches, type FailedExec, type ImageResolver, type ImportedCache, type SolvedRef } from '../solver/ops/index.js';
import { importCaches } from './cache-transfer.js';
import { checkStepPlatforms } from './emulation.js';
import { compileExcludes } from './exclude-patterns.js';
import { limitExecutor } from './exec-slots.js';
import type { RegistryAccess } from './registry-access.js';
import type { BuildInputs } from './resolve-inputs.js';
import type { BuildEnvironment, BuildRequest, Entitlement } from './request.js';
import type { SolvedResult } from './solved-rootfs.js';
import type { Store } from './store.js';
import type { BuildObserver } from './history-recorder.js';

/** SolveRequest is the slice of a request the solve stage reads: what RUN steps may do, and the caches to import. */
export type SolveRequest = Pick<BuildRequest, 'allow' | 'network' | 'cacheFrom'> & { readonly environment?: Pick<BuildEnvironment, 'processEnv'> };

/** SolveServices are the controller's parts a solve shares with other builds. */
export interface SolveServices {
  readonly store: Store;
  readonly executor: () => Promise<Executor>;
  readonly shared: SharedCalls<SolvedRef>;
  readonly execSlots: PQueue;
  /** Offered each RUN that failed, as it ended, when the build opens a debug shell in it (see FailedStepKeeper). */
  readonly keepFailedExec?: (failed: FailedExec) => boolean;
  /** The watches of context folders a resident builder keeps between builds. */
  readonly contextWatches?: ContextWatches;
}

/** SolveSession is one attempt's view of the registry and base images, and where the solve reports. */
export interface SolveSession {
  readonly registry: RegistryAccess;
  readonly images: ImageResolver;
  readonly signal: AbortSignal;
  readonly progress: ProgressSink;
  /** Told of each snapshot a vertex made (the export digests the image's layers meanwhile). */
  readonly snapshotCommitted: (vertexDigest: string, snapshotId: string) => void;
  /** The outputs unpack the result anyway: loading it in the solve would run a step whose cached layers are unusable. */
  readonly unpacksResult: boolean;
  /** The platform the build is for: an imported cache of several platforms gives its records. */
  readonly platform: Platform;
  /** Told each step's key and the files each context checksum covered, for the build's history record. */
  readonly observer?: BuildObserver;
}

/** Solved is a finished solve: every vertex's key and result, and the final filesystem; disposing it ends its runner. */
export interface Solved extends AsyncDisposable {
  readonly outcome: SolveOutcome<SolvedRef> | undefined;
  readonly result: SolvedResult;
  readonly imported: ImportedCache | undefined;
  /** What each source resolved to when it was keyed (git commits, download digests), by vertex digest. */
  readonly pins: ReadonlyMap<string, SourcePin>;
}

/**
 * solve is the third stage of a build: it checks the entitlements RUN steps need and that this machine runs their
 * platforms, imports `--cache-from` caches and solves the graph. Undefined means a base image moved while the solve went ahead on its stored resolution.
 */
export async function solve(request: SolveRequest, definition: BuildDefinition, inputs: BuildInputs, services: SolveServices, session: SolveSession): Promise<Solved | undefined> {
  const { store } = services;
  const { signal, progress, observer } = session;
  if (definition.root !== null) checkEntitlements(definition.root.vertex, request.allow ?? []);
  // A RUN step for a platform no emulator runs fails now, naming the fix, not midway with "exec format error".
  if (definition.root !== null) await checkStepPlatforms(definition.root.vertex);
  const pins = new Map<string, SourcePin>();
  const runner = createOpRunner({
    meta: store.meta,
    cacheKeys: store.cacheKeys,
    content: store.content,
    snapshotter: store.snapshotter,
    layerBlobs: store.layerBlobs,
    executor: limitExecutor(services.executor, services.execSlots),
    registry: session.registry.client,
    images: session.images,
    contexts: inputs.contexts,
    layouts: inputs.layouts,
    excludeMatcher: compileExcludes,
    cacheMounts: store.cacheMounts,
    secrets: inputs.secrets,
    sshAgents: inputs.sshAgents,
    processEnv: request.environment?.processEnv ?? {},
    ...(request.network === undefined ? {} : { network: request.network }),
    snapshotCommitted: session.snapshotCommitted,
    sourcePinned: (vertex, pin) => void pins.set(vertex, pin),
    ...(observer === undefined ? {} : { contextListed: (checksum: string, lines: readonly string[]) => observer.contextListed(checksum, lines) }),
    ...(services.keepFailedExec === undefined ? {} : { keepFailedExec: services.keepFailedExec }),
    ...(services.contextWatches === undefined ? {} : { contextWatches: services.contextWatches }),
  });
  const dispose = async (): Promise<void> => {
    await runner[Symbol.asyncDispose]();
  };
  // Ending the runner after a failure keeps that failure; one of its own (a last use not dated) is a warning then.
  const disposeAfterFailure = (): Promise<void> =>
    dispose().catch((err: unknown) => progress.emit({ type: 'warning', message: err instanceof Error ? err.message : String(err), time: Date.now() }));
  try {
    const transfer = { store, registry: session.registry.client, locations: session.registry.locations, signal, progress };
    const imported = await importCaches(request.cacheFrom ?? [], transfer, session.platform);
    if (definition.root === null) return { outcome: undefined, result: { kind: 'snapshot', snapshotId: null }, imported, pins, [Symbol.asyncDispose]: dispose };
    const solver = createSolver<SolvedRef>(imported === undefined ? runner : withImportedCache(runner, imported), { storage: store.cacheKeys, shared: services.shared });
    const job = { id: randomBytes(8).toString('hex'), signal, progress };
    let outcome: SolveOutcome<SolvedRef>;
    try {
      outcome = await solver.solve(definition.root.vertex, job, {
        load: session.unpacksResult,
        ...(observer === undefined ? {} : { keyed: (v: Vertex, key: string) => observer.keyed(v, key) }),
      });
      // Steps found cached below another were not looked up: the solve's own list gives their keys.
      if (observer !== undefined) for (const v of outcome.vertices.values()) observer.keyed(v.vertex, v.key);
    } catch (err) {
      // A moved base stops the solve before anything is built on its old image. A failed check is reported by the
      // step that used the image, with its Dockerfile line.
      if (await session.images.moved()) {
        await disposeAfterFailure();
        return undefined;
      }
      throw err;
    }
    return { outcome, result: solvedResult(outcome.result, imported), imported, pins, [Symbol.asyncDispose]: dispose };
  } catch (err) {
    await disposeAfterFailure();
    throw err;
  }
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

/** checkEntitlements refuses RUN steps that need an entitlement the build was not given. */
function checkEntitlements(root: Vertex, allowed: readonly Entitlement[]): void {
  for (const v of walkVertices([root])) {
    const op = v.op;
    if (op.kind !== 'exec') continue;
    const location = v.metadata.location;
    if (op.security === 'insecure' && !allowed.includes('security.insecure')) {
      throw new DockerfileError('Cannot run RUN --security=insecure: entitlement security.insecure is not allowed', {
        ...(location === undefined ? {} : { location }),
        hint: 'pass --allow security.insecure',
      });
    }
    if (op.network === 'host' && !allowed.includes('network.host')) {
      throw new DockerfileError('Cannot run RUN --network=host: entitlement network.host is not allowed', {
        ...(location === undefined ? {} : { location }),
        hint: 'pass --allow network.host',
      });
    }
  }
}
