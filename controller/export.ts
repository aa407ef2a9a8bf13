import type { ImageConfig } from '../base/oci.js';
import type { ProgressSink } from '../base/progress.js';
import { exportCaches, withInlineCache, type CacheExportSubject, type CacheLayerSettings, type CacheTransferDeps } from './cache-transfer.js';
import type { Compiled } from './compile.js';
import { createLayerPrefetch } from './layer-prefetch.js';
import { exportEpoch, type ExportDeps, type ExportSubject, type ExportSummary } from './exporters/types.js';
import { exportOutputs } from './outputs.js';
import type { RegistryAccess } from './registry-access.js';
import type { BuildEnvironment, BuildRequest, CacheExportSpec, OutputSpec } from './request.js';
import type { Solved } from './solve.js';
import { createSolvedRootfs, type SolvedRootfs } from './solved-rootfs.js';
import type { ImageAttester } from './attestations.js';
import type { Store } from './store.js';

/** ExportRequest is the slice of a request the export stage reads: the outputs, labels and caches to write. */
export type ExportRequest = Pick<BuildRequest, 'outputs' | 'labels' | 'cacheTo'> & { readonly environment?: Pick<BuildEnvironment, 'dockerHost' | 'umask'> };

/** ExportSession is one attempt's registry access, where the export reports, and who attests its images. */
export interface ExportSession {
  readonly registry: RegistryAccess;
  readonly signal: AbortSignal;
  readonly progress: ProgressSink;
  /** Makes the attester of the build's `--attest` specs for its filesystem (undefined without any). */
  readonly attester: (rootfs: SolvedRootfs) => ImageAttester | undefined;
}

/** PreparedExport is one solved build made ready to write: what its outputs and caches take. */
export interface PreparedExport {
  readonly subject: ExportSubject;
  readonly deps: ExportDeps;
  readonly cache: CacheExportSubject;
  readonly transfer: CacheTransferDeps;
  /** The caches to export (`--cache-to`, and an inline cache BUILDKIT_INLINE_CACHE asks for). */
  readonly cacheTo: readonly CacheExportSpec[];
}

/**
 * ExportStage writes a solved build to its outputs. It exists from the compile on: while the solve runs it digests the
 * layers a local image will hold, as each is committed. Disposing it stops that work.
 */
export interface ExportStage extends AsyncDisposable {
  /** Told of each snapshot the solve commits. */
  readonly snapshotCommitted: (vertexDigest: string, snapshotId: string) => void;
  /** The outputs unpack the result (a folder or a rootfs tar). */
  readonly unpacksResult: boolean;
  /** prepare makes the image config (with an inline cache) and everything writing the outputs takes. */
  prepare(solved: Solved, session: ExportSession): Promise<PreparedExport>;
  /** write writes the outputs and the caches to export. */
  write(prepared: PreparedExport): Promise<ExportSummary>;
}

/** DEFAULT_UMASK is the umask of a caller that gives none. */
const DEFAULT_UMASK = 0o022;

/** createExportStage takes the export slice of a request, once, for a compiled Dockerfile. */
export function createExportStage(request: ExportRequest, compiled: Compiled, o: { readonly store: Store; readonly signal: AbortSignal }): ExportStage {
  const { store } = o;
  const { definition } = compiled;
  const epoch = definition.sourceDateEpoch === undefined ? {} : { sourceDateEpoch: String(definition.sourceDateEpoch) };
  const prefetch = createLayerPrefetch(definition.root?.vertex, { outputs: request.outputs, store, ...epoch, signal: o.signal });
  const cacheTo = cacheExportsOf(request.cacheTo ?? [], compiled.inlineCache);
  return {
    snapshotCommitted: prefetch.committed,
    unpacksResult: request.outputs.some((out) => out.type === 'local' || out.type === 'tar'),
    async prepare(solved, { registry, signal, progress, attester }) {
      const rootfs = createSolvedRootfs(solved.result, { store, signal, progress });
      const transfer = { store, registry: registry.client, locations: registry.locations, signal, progress };
      const cache = { outcome: solved.outcome, rootfs, imported: solved.imported };
      const image = await withInlineCache(withLabels(definition.image, request.labels), cacheTo, cache, inlineLayers(request.outputs, epoch.sourceDateEpoch), transfer);
      await prefetch.settled();
      const attests = attester(rootfs);
      const subject = { rootfs, image, ...epoch, ...(definition.base === undefined ? {} : { base: definition.base }), ...(attests === undefined ? {} : { attester: attests }) };
      const umask = request.environment?.umask ?? DEFAULT_UMASK;
      const deps = { store, registry: registry.client, signal, progress, dockerHost: request.environment?.dockerHost, fileMode: 0o666 & ~umask };
      return { subject, deps, cache, transfer, cacheTo };
    },
    async write(prepared) {
      const exported = await exportOutputs(request.outputs, prepared.subject, prepared.deps);
      await exportCaches(prepared.cacheTo, [prepared.cache], prepared.transfer);
      return exported;
    },
    [Symbol.asyncDispose]: () => prefetch[Symbol.asyncDispose](),
  };
}

/** withLabels sets `--label` values on the image config, over the Dockerfile's LABELs, as docker buildx does. */
function withLabels(image: ImageConfig, labels: Readonly<Record<string, string>> | undefined): ImageConfig {
  if (labels === undefined || Object.keys(labels).length === 0) return image;
  return { ...image, config: { ...image.config, Labels: { ...image.config?.Labels, ...labels } } };
}

/**
 * cacheExportsOf is the request's --cache-to list, plus an inline cache when the build arg BUILDKIT_INLINE_CACHE is
 * set to a true value, as `docker build --build-arg BUILDKIT_INLINE_CACHE=1` asks BuildKit for one.
 */
function cacheExportsOf(specs: readonly CacheExportSpec[], inline: boolean): readonly CacheExportSpec[] {
  if (!inline || specs.some((s) => s.type === 'inline')) return specs;
  return [...specs, { type: 'inline' }];
}

/**
 * inlineLayers is how the first image output makes its layers, which an inline cache must match: its compression, and
 * with rewrite-timestamp the epoch it clamps file times to.
 */
function inlineLayers(outputs: readonly OutputSpec[], resolved: string | undefined): CacheLayerSettings {
  for (const out of outputs) if ('image' in out) return { compression: out.image.compression, ...(out.image.rewriteTimestamp === true ? exportEpoch(out.image, resolved) : {}) };
  return { compression: 'gzip' };
}
