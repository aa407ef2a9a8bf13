import { ExportError, UsageError } from '../base/errors.js';
import { formatPlatform, type Platform } from '../base/oci.js';
import type { ProgressSink } from '../base/progress.js';
import { runPipeline, type BuildIO } from './build.js';
import { exportCaches } from './cache-transfer.js';
import type { PreparedExport } from './export.js';
import type { BuildInputs } from './resolve-inputs.js';
import type { SolveServices } from './solve.js';
import type { BuildRequest, BuildResult } from './request.js';
import { exportPlatforms } from './platforms-export.js';
import type { ExportSummary } from './exporters/types.js';

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve: (value: T) => void = () => undefined;
  let reject: (reason: unknown) => void = () => undefined;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** checkPlatformsRequest refuses, before building, the outputs an image index cannot go to. */
function checkPlatformsRequest(request: BuildRequest): void {
  for (const o of request.outputs) {
    // BuildKit's docker exporter refuses an image index with this message.
    if (o.type === 'docker' || o.type === 'load') throw new ExportError('docker exporter does not currently support exporting manifest lists');
  }
}

/** onceWarnings passes each warning on once: every platform's compilation finds the Dockerfile's warnings again. */
function onceWarnings(progress: ProgressSink): ProgressSink {
  const seen = new Set<string>();
  return {
    emit: (e) => {
      if (e.type === 'warning') {
        if (seen.has(e.message)) return;
        seen.add(e.message);
      }
      progress.emit(e);
    },
  };
}

/**
 * runPlatformsBuild builds several platforms together, as `docker buildx build --platform a,b` does: the Dockerfile is
 * compiled once per platform and the platforms are solved at once with the controller's shared calls, so a step that is
 * the same for every platform (a stage `FROM --platform=$BUILDPLATFORM`) runs once. Each platform's solve then waits
 * while one export writes every platform's result as one image index (or one folder per platform).
 */
export async function runPlatformsBuild(request: BuildRequest, inputs: BuildInputs, platforms: readonly Platform[], services: SolveServices, io: BuildIO): Promise<BuildResult> {
  checkPlatformsRequest(request);
  const failed = new AbortController();
  // The first failure is the cause; the other platforms' builds are cancelled by it.
  let cause: { readonly error: unknown } | undefined;
  const fail = (err: unknown): void => {
    cause ??= { error: err };
    failed.abort(err);
  };
  const signal = AbortSignal.any([io.signal, failed.signal]);
  const progress = onceWarnings(io.progress);
  const arrived = platforms.map(() => deferred<PreparedExport & { readonly platform: Platform }>());
  const exported = deferred<ExportSummary>();
  // Every platform's build awaits the export; when none got that far, its failure is reported by the builds.
  exported.promise.then(undefined, () => undefined);
  const { platforms: _all, ...single } = request;
  const builds = platforms.map((platform, i) =>
    runPipeline({ ...single, platform }, inputs, services, { ...io, signal, progress }, {
      exportAll: (solved) => {
        arrived[i]?.resolve({ ...solved, platform });
        return exported.promise;
      },
    }),
  );
  for (const [i, build] of builds.entries()) {
    build.then(undefined, (err: unknown) => {
      arrived[i]?.reject(err);
      fail(err);
    });
  }
  try {
    const solved = await Promise.all(arrived.map((a) => a.promise));
    const summary = await exportPlatforms(request.outputs, solved);
    const [first] = solved;
    // One cache holds the records of every platform.
    if (first !== undefined) await exportCaches(first.cacheTo, solved.map((s) => s.cache), first.transfer);
    exported.resolve(summary);
  } catch (err) {
    exported.reject(err);
    fail(err);
  }
  const results = await Promise.allSettled(builds);
  if (cause !== undefined) throw cause.error;
  const first = results[0];
  if (first?.status !== 'fulfilled') throw new UsageError('Cannot build: no platform was given');
  // Each platform's provenance, as buildx writes buildx.build.provenance/PLATFORM.
  const provenance = platforms.flatMap((platform, i) => {
    const r = results[i];
    return r?.status === 'fulfilled' ? (r.value.provenance ?? []).map((p) => ({ ...p, platform: formatPlatform(platform) })) : [];
  });
  return { ...first.value, ...(provenance.length === 0 ? {} : { provenance }) };
}
