import PQueue from 'p-queue';
import { UsageError } from '../base/errors.js';
import type { Logger } from '../base/log.js';
import { hostPlatform, type Platform } from '../base/oci.js';
import type { PruneOptions, PruneReport, UsageRecord } from '../cache/index.js';
import type { Executor, NetworkPoolStats } from '../executor/index.js';
import { SharedCalls } from '../solver/index.js';
import type { SolvedRef } from '../solver/ops/index.js';
import { collectGarbage } from './auto-gc.js';
import { runPipeline, type BuildIO } from './build.js';
import { FailedStepKeeper, type DebugShell } from './debug-shell.js';
import { openDebugShell, type DebugTarget } from './debug-target.js';
import type { ExecResult } from '../executor/index.js';
import { indexPlatforms } from './multi-platform.js';
import { checkMediaTypes } from './media-types.js';
import { BuildRecords, type BuildHistory } from './build-history.js';
import { resolveInputs } from './resolve-inputs.js';
import { ContextWatchRegistry, type ContextWatchOptions } from './context-watches.js';
import { diskUsage, pruneCache } from './cache-usage.js';
import { createExecSlots, defaultParallelism } from './exec-slots.js';
import { checkRootlessLimits, checkRootlessRuntime, createExecutor, overlayProbeMemoOf, processSandboxFor, type OciRuntime } from './executor-choice.js';
import { gcPolicyFor } from './gc-settings.js';
import { overlaySettingFor, withOverlaySetting } from './store-settings.js';
import { listImages, removeImages, type ImageSummary, type RemovedImage } from './image-store.js';
import type { BuildRequest, BuildResult } from './request.js';
import { createLocalImages, type LocalImages } from './local-images.js';
import { openStore } from './store.js';
import { createHistoryAccess, type HistoryAccess } from './history-access.js';
import { HistoryRecorder } from './history-recorder.js';
import { historyPolicyFor } from './history-settings.js';
import { createHistoryStore } from '../cache/index.js';

/** ControllerOptions configure a controller: one state folder and how its builds run. */
export interface ControllerOptions {
  /** The state folder (store, snapshots, cache); created when missing. */
  readonly root: string;
  /** Run RUN steps with an installed OCI runtime instead of tbuild's own sandbox. */
  readonly ociRuntime?: OciRuntime;
  /**
   * false runs every RUN step in tbuild's own PID namespace with its /proc bound in (--no-process-sandbox), where a
   * new /proc cannot be mounted; undefined leaves it to the build's settings file (`[executor] process-sandbox`).
   */
  readonly processSandbox?: boolean;
  /**
   * Settings file (registry mirrors, `[gc]`, `[resolve]`) of builds whose request names none; without it they use no
   * settings (the CLI gives the user's default file here, the controller reads no default of its own).
   */
  readonly settingsFile?: string;
  /** Builds that run at once; others wait in a queue (default: defaultParallelism, four per CPU, at least 8). */
  readonly maxParallelBuilds?: number;
  /**
   * The build queue, when several controllers share one (a server's tenants in stores of their own): its concurrency
   * bounds their builds together, and maxParallelBuilds is not used.
   */
  readonly buildQueue?: PQueue;
  /** Where the controller reports what it does on its own (automatic collection). */
  readonly logger?: Logger;
  /**
   * Keep an inotify watch on the context folders built lately (a resident builder, tbuild serve): a warm build then
   * reuses the context's last checksum while nothing in the folder changed, instead of walking it.
   */
  readonly watchContexts?: boolean | Omit<ContextWatchOptions, 'logger'>;
}

/** ControllerInfo describes a controller and the builds it runs. */
export interface ControllerInfo {
  readonly root: string;
  readonly platform: Platform;
  readonly maxParallelBuilds: number;
  /** Builds running now. */
  readonly running: number;
  /** Builds waiting for a slot. */
  readonly queued: number;
  /** The pool of ready RUN networks, once a build ran a process. */
  readonly networks?: NetworkPoolStats;
}

/**
 * Controller is tbuild's composition root: it owns one store, the executor, the calls and process slots builds share,
 * the build queue and cache collection. The CLI, the resident builder, `tbuild serve` and SDK users all build through it.
 */
export interface Controller extends AsyncDisposable {
  /** build runs one build request: compile, solve, export; then collects cache when the store outgrew its policy. */
  build(request: BuildRequest, io: BuildIO): Promise<BuildResult>;
  /** du lists the build cache records (cache mounts among them), largest first. */
  du(): Promise<UsageRecord[]>;
  /** prune removes build cache; what running builds of any process lease stays. */
  prune(options: PruneOptions): Promise<PruneReport>;
  /** images lists the local image store, newest first. */
  images(): Promise<ImageSummary[]>;
  /** removeImages untags names or removes images by ID, as `docker rmi` does. */
  removeImages(args: readonly string[], options: { readonly force: boolean }): Promise<RemovedImage[]>;
  /** info describes the controller and its builds now. */
  info(): ControllerInfo;
  /** localImages names, pushes, saves, loads and inspects the images of the local image store. */
  readonly localImages: LocalImages;
  /** history lists the controller's builds and cancels one. */
  readonly history: BuildHistory;
  /** records reads the build history of the store (every build's record, logs and cache decisions). */
  readonly records: HistoryAccess;
  /** debugShell runs a shell on a terminal over an image's or a build step's files (changes are thrown away). */
  debugShell(target: DebugTarget, shell: DebugShell, options: { readonly signal: AbortSignal }): Promise<ExecResult>;
  /** close waits for running builds to end and closes the store. */
  close(): Promise<void>;
}

/** pick copies the named optional fields that are set. */
function pick<T extends object, K extends keyof T>(o: T, ...keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

/** createController opens the store at `options.root` and returns the controller that builds with it. */
export async function createController(options: ControllerOptions): Promise<Controller> {
  checkRootlessRuntime(options.ociRuntime);
  // A server started with --no-process-sandbox where it is refused stops at once, rather than at its first build.
  if (options.processSandbox === false) await processSandboxFor(undefined, false, options.ociRuntime);
  const store = await openStore(options.root);
  const choice = createExecutor(store.tmp, options.ociRuntime, overlayProbeMemoOf(store.root));
  /** executorOf is the executor of processes run with this settings file (their process sandbox or none). */
  const executorOf = (settingsFile: string | undefined) => async (): Promise<Executor> =>
    choice.executor(await processSandboxFor(settingsFile, options.processSandbox, options.ociRuntime));
  const shared = new SharedCalls<SolvedRef>();
  const execSlots = createExecSlots();
  const queue = options.buildQueue ?? new PQueue({ concurrency: Math.max(1, options.maxParallelBuilds ?? defaultParallelism()) });
  const maxParallelBuilds = queue.concurrency;
  // The queue stops waiting for a build whose signal aborts while it runs: close waits for these instead.
  const running = new Set<Promise<unknown>>();
  const track = <T>(p: Promise<T>): Promise<T> => {
    running.add(p);
    const forget = (): void => void running.delete(p);
    p.then(forget, forget);
    return p;
  };
  const watches = options.watchContexts === undefined || options.watchContexts === false ? undefined : new ContextWatchRegistry({ ...(options.watchContexts === true ? {} : options.watchContexts), ...pick(options, 'logger') });
  const history = new BuildRecords();
  const historyStore = createHistoryStore(store.root, store.meta);
  const records = createHistoryAccess(historyStore, store.meta);
  /**
   * runQueued makes the build's inputs ready (a remote context syncs while other builds run), then runs the pipeline
   * in a queue slot. The inputs are released once the pipeline has ended, even when the caller stopped waiting.
   */
  const runQueued = async (request: BuildRequest, io: BuildIO, buildId: string, executor: () => Promise<Executor>): Promise<BuildResult> => {
    const overlay = await overlaySettingFor(request.registryConfigPath);
    const inputs = await resolveInputs(request, { tmp: store.tmp, signal: io.signal, ...pick(io, 'secrets', 'sshAgents', 'layouts') });
    io.observer?.dockerfile(inputs.dockerfile.name, inputs.dockerfile.text);
    let handedOver = false;
    const runReleasing = async (): Promise<BuildResult> => {
      // A debug shell opens in the failed step once every platform's solve has settled (its other steps finished or
      // cancelled, as buildx's debugger starts after the build's result), and before the inputs (secrets, SSH agents) go.
      await using failed = io.debugShell === undefined ? undefined : new FailedStepKeeper();
      try {
        const services = { store, executor: withOverlaySetting(executor, overlay), shared, execSlots, ...(failed === undefined ? {} : { keepFailedExec: failed.offer }), ...(watches === undefined ? {} : { contextWatches: watches }) };
        const platforms = indexPlatforms(request);
        if (platforms.length === 0) return await runPipeline(request, inputs, services, io);
        // A build of several platforms (image index assembly, per-platform exports) loads its code when one is asked for.
        const { runPlatformsBuild } = await import('./platforms-build.js');
        return await runPlatformsBuild(request, inputs, platforms, services, io);
      } catch (err) {
        if (failed !== undefined && io.debugShell !== undefined) await failed.openShell(err, io.debugShell, withOverlaySetting(executor, overlay), { signal: io.signal });
        throw err;
      } finally {
        await inputs[Symbol.asyncDispose]();
      }
    };
    try {
      history.update(buildId, 'queued');
      return await queue.add(
        () => {
          handedOver = true;
          history.update(buildId, 'running');
          io.started?.();
          return track(runReleasing());
        },
        { signal: io.signal },
      );
    } finally {
      if (!handedOver) await inputs[Symbol.asyncDispose]();
    }
  };
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await queue.onIdle();
      await Promise.allSettled([...running]);
      await watches?.[Symbol.asyncDispose]();
      try {
        await choice[Symbol.asyncDispose]();
      } finally {
        await store[Symbol.asyncDispose]();
      }
    })());
  const collect = async (settingsFile: string | undefined): Promise<void> => {
    // Keep the store within its policy (settings file [gc]): collection runs only once the cache outgrows it.
    const policy = await gcPolicyFor(store.root, settingsFile);
    const collected = policy === undefined ? undefined : await collectGarbage(store, policy);
    if (collected !== undefined) options.logger?.info('collected build cache', { ...collected });
  };
  return {
    async build(request, io) {
      if (closing !== undefined) throw new UsageError('Cannot build: the controller is closed');
      checkMediaTypes(request);
      checkRootlessLimits(request);
      const settingsFile = request.registryConfigPath ?? options.settingsFile;
      const processSandbox = await processSandboxFor(settingsFile, options.processSandbox, options.ociRuntime);
      const historyPolicy = await historyPolicyFor(settingsFile);
      if (historyPolicy === undefined && request.explain === true) {
        throw new UsageError('Cannot use --explain: the build history is off', { hint: 'it compares steps with earlier build records: remove [history] enabled = false from the settings file' });
      }
      const abort = new AbortController();
      const buildId = history.add(io.clientId ?? '', abort, io.tenant);
      const signal = AbortSignal.any([io.signal, abort.signal]);
      // A record that cannot be written is reported, never the build's failure (nor in place of it).
      const unrecorded = (err: unknown): undefined => {
        const message = `Cannot record build ${buildId} in the history: ${err instanceof Error ? err.message : String(err)}`;
        io.progress.emit({ type: 'warning', message, time: Date.now() });
        options.logger?.warn(message);
        return undefined;
      };
      const recorder = historyPolicy === undefined ? undefined : await HistoryRecorder.start(historyStore, store.meta, { ref: buildId, clientId: io.clientId ?? '', ...(io.tenant === undefined ? {} : { tenant: io.tenant }), request }).catch(unrecorded);
      const recorded: BuildIO = recorder === undefined ? { ...io, signal } : { ...io, signal, progress: recorder.progress(io.progress), observer: recorder };
      const finish = async (outcome: Parameters<HistoryRecorder['finish']>[0]): Promise<void> => {
        if (recorder === undefined || historyPolicy === undefined) return;
        // A caller that answers its client (io.answered) gets a built result before its record is committed: the
        // record shows in this process at once, close waits for the commit, and one that cannot be made goes to the
        // logger. A failure's error waits for the commit, as the client's session (secrets, SSH, layout blobs it may
        // still be serving) ends with the error; so does every build of a caller that does not say when it answered.
        const background = io.answered !== undefined && 'result' in outcome;
        const written = await recorder.finish(outcome, historyPolicy, background ? { commitAfter: io.answered } : {}).catch(unrecorded);
        if (written === undefined) return;
        if (!background) {
          await written.committed.catch(unrecorded);
          return;
        }
        void track(written.committed.catch((err: unknown) => options.logger?.warn(`Cannot record build ${buildId} in the history: ${err instanceof Error ? err.message : String(err)}`)));
      };
      try {
        await io.accepted?.(buildId);
        const result = { ...(await runQueued({ ...request, ...(settingsFile === undefined ? {} : { registryConfigPath: settingsFile }) }, recorded, buildId, () => choice.executor(processSandbox))), buildId };
        history.update(buildId, 'completed');
        await finish({ result });
        await collect(settingsFile);
        return result;
      } catch (err) {
        history.update(buildId, signal.aborted ? 'cancelled' : 'failed', err instanceof Error ? err.message : String(err));
        await finish({ error: err, cancelled: signal.aborted });
        throw err;
      }
    },
    du: () => diskUsage(store),
    prune: (o) => pruneCache(store, o),
    images: () => listImages(store),
    removeImages: (args, o) => removeImages(store, args, o),
    localImages: createLocalImages(store, options.settingsFile),
    info: () => {
      const networks = choice.networkStats();
      return { root: store.root, platform: hostPlatform(), maxParallelBuilds, running: queue.pending, queued: queue.size, ...(networks === undefined ? {} : { networks }) };
    },
    history,
    records,
    debugShell: (target, shell, o) => openDebugShell(target, shell, { store, records, executor: executorOf(options.settingsFile), signal: o.signal }),
    close,
    [Symbol.asyncDispose]: close,
  };
}
