import { ExportError, TbuildError } from '../base/errors.js';
import type { ImageConfig } from '../base/oci.js';
import type { ProgressSink } from '../base/progress.js';
import { INLINE_CACHE_FIELD, type CacheConfig } from '../cache/cache-config.js';
import { buildCacheConfig, pushCacheArtifact, writeCacheArtifact, writeCacheLayout, type CacheExportRecord } from '../exporter/index.js';
import type { RegistryClient } from '../registry/index.js';
import type { SolveOutcome } from '../solver/index.js';
import {
  createImportedCache,
  loadCache,
  localCacheSource,
  registryCacheSource,
  type ImportedCache,
  type LoadedCache,
  type Ref,
} from '../solver/ops/index.js';
import type { CacheExportSpec, CacheImportSpec, LayerCompression } from './request.js';
import type { Store } from './store.js';
import { reportStep } from './progress-step.js';

/** CacheTransferDeps is what importing and exporting caches needs. */
export interface CacheTransferDeps {
  readonly store: Store;
  readonly registry: () => Promise<RegistryClient>;
  readonly signal: AbortSignal;
  readonly progress: ProgressSink;
}

/** importCaches loads every `--cache-from`; a missing or invalid cache is skipped with a warning. */
export async function importCaches(specs: readonly CacheImportSpec[], deps: CacheTransferDeps): Promise<ImportedCache | undefined> {
  if (specs.length === 0) return undefined;
  const loaded: LoadedCache[] = [];
  for (const spec of specs) {
    const source = spec.type === 'registry' ? registryCacheSource(spec.ref, deps.registry) : localCacheSource(spec.src);
    try {
      const cache = await reportStep(deps.progress, `importing cache manifest from ${source.name}`, () => loadCache(source, { signal: deps.signal }));
      if (cache === undefined) warn(deps, `No build cache found at "${source.name}"`);
      else loaded.push(cache);
    } catch (err) {
      if (deps.signal.aborted || !(err instanceof TbuildError)) throw err;
      warn(deps, `Ignoring cache "${source.name}": ${err.message}`);
    }
  }
  return createImportedCache(loaded, deps.store);
}

/** CacheExportSubject is a finished solve: every vertex's key and result, and the final snapshot. */
export interface CacheExportSubject {
  readonly outcome: SolveOutcome<Ref> | undefined;
  readonly top: string | null;
  readonly imported: ImportedCache | undefined;
}

/** inlineCacheConfig returns the image config with the final image's cache records in it, when `type=inline` is asked for. */
export async function withInlineCache(image: ImageConfig, specs: readonly CacheExportSpec[], subject: CacheExportSubject, compression: LayerCompression, deps: CacheTransferDeps): Promise<ImageConfig> {
  if (!specs.some((s) => s.type === 'inline')) return image;
  const config = await cacheConfig(subject, 'min', compression, deps);
  const withCache: ImageConfig & { [INLINE_CACHE_FIELD]?: CacheConfig } = { ...image };
  withCache[INLINE_CACHE_FIELD] = config;
  return withCache;
}

/** exportCaches writes the registry and local caches the request asks for. */
export async function exportCaches(specs: readonly CacheExportSpec[], subject: CacheExportSubject, deps: CacheTransferDeps): Promise<void> {
  for (const spec of specs) {
    if (spec.type === 'inline') continue;
    await reportStep(deps.progress, `exporting cache to ${spec.type} ${spec.target}`, async () => {
      const config = await cacheConfig(subject, spec.mode, spec.compression, deps);
      const artifact = await writeCacheArtifact(config, { imageManifest: spec.imageManifest, store: deps.store.content, signal: deps.signal });
      if (spec.type === 'registry') {
        await pushCacheArtifact(artifact, spec.target, { registry: await deps.registry(), store: deps.store.content, signal: deps.signal });
      } else {
        await writeCacheLayout(artifact, spec.target, { store: deps.store.content, signal: deps.signal });
      }
    });
  }
}

/** cacheConfig lists the records of the solve: every op result (max) or those in the final image (min). */
async function cacheConfig(subject: CacheExportSubject, mode: 'min' | 'max', compression: LayerCompression, deps: CacheTransferDeps): Promise<CacheConfig> {
  const { store } = deps;
  const finalChain = new Set(store.snapshotter.chain(subject.top));
  const records: CacheExportRecord[] = [];
  for (const solved of subject.outcome?.vertices.values() ?? []) {
    if (solved.vertex.op.kind === 'source') continue;
    const rec = store.meta.cacheRecords.get(solved.key);
    const local = rec !== undefined && (rec.snapshotId === null || store.snapshotter.exists(rec.snapshotId)) ? rec.snapshotId : undefined;
    // Vertices under an imported hit were never materialised; their layers may be here already.
    const snapshotId = local !== undefined ? local : subject.imported?.findLocal(solved.key);
    if (snapshotId === undefined) continue;
    if (mode === 'min' && snapshotId !== null && !finalChain.has(snapshotId)) continue;
    const chain = store.snapshotter.chain(snapshotId).map((id) => ({ id, dir: store.snapshotter.dir(id) }));
    records.push({ key: solved.key, chain });
  }
  return buildCacheConfig(records, { compression, ...sourceDateEpoch(), store: store.content, cache: store.layerBlobs, signal: deps.signal });
}

function sourceDateEpoch(): { sourceDateEpoch?: number } {
  const raw = process.env['SOURCE_DATE_EPOCH'];
  if (raw === undefined || raw === '') return {};
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new ExportError(`Cannot use SOURCE_DATE_EPOCH="${raw}": expected a whole number of seconds`);
  return { sourceDateEpoch: n };
}

function warn(deps: CacheTransferDeps, message: string): void {
  deps.progress.emit({ type: 'warning', message, time: Date.now() });
}

