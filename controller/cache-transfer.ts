import { TbuildError } from '../base/errors.js';
import type { ImageConfig, Platform } from '../base/oci.js';
import type { ProgressSink } from '../base/progress.js';
import { INLINE_CACHE_FIELD, type CacheConfig } from '../cache/index.js';
import type { CacheExportRecord, ExportLayer } from '../exporter/index.js';
import type { RegistryClient } from '../registry/index.js';
import { parseReference, type BlobLocations } from '../registry/index.js';
import type { Digest } from '../base/digest.js';
import type { Descriptor } from '../base/oci.js';
import { pushStatus, storeBlobOpener } from './push-output.js';
import { importedLayers, snapshotLayers, type SolvedRootfs } from './solved-rootfs.js';
import type { SolveOutcome } from '../solver/index.js';
import {
  createImportedCache,
  loadCache,
  localCacheSource,
  registryCacheSource,
  type ImportedCache,
  type LoadedCache,
  type SolvedRef,
} from '../solver/ops/index.js';
import type { CacheExportSpec, CacheImportSpec, LayerCompression } from './request.js';
import type { Store } from './store.js';
import { reportStep } from './progress-step.js';

/** CacheTransferDeps is what importing and exporting caches needs. */
export interface CacheTransferDeps {
  readonly store: Store;
  readonly registry: () => Promise<RegistryClient>;
  /** Where blobs are known to be: an imported registry cache's layers can be mounted into the repositories pushed to. */
  readonly locations: BlobLocations;
  readonly signal: AbortSignal;
  readonly progress: ProgressSink;
}

/** importCaches loads every `--cache-from`; a missing or invalid cache is skipped with a warning. */
export async function importCaches(specs: readonly CacheImportSpec[], deps: CacheTransferDeps, platform: Platform): Promise<ImportedCache | undefined> {
  if (specs.length === 0) return undefined;
  const loaded: LoadedCache[] = [];
  for (const spec of specs) {
    const source = spec.type === 'registry' ? registryCacheSource(spec.ref, deps.registry) : localCacheSource(spec.src);
    try {
      const cache = await reportStep(deps.progress, `importing cache manifest from ${source.name}`, () => loadCache(source, { signal: deps.signal, platform }));
      if (cache === undefined) warn(deps, `No build cache found at "${source.name}"`);
      else {
        loaded.push(cache);
        if (spec.type === 'registry') await rememberLocations(spec.ref, cache, deps.locations);
      }
    } catch (err) {
      if (deps.signal.aborted || !(err instanceof TbuildError)) throw err;
      warn(deps, `Ignoring cache "${source.name}": ${err.message}`);
    }
  }
  return createImportedCache(loaded, deps.store);
}

/** CacheExportSubject is a finished solve: every vertex's key and result, and the final filesystem. */
export interface CacheExportSubject {
  readonly outcome: SolveOutcome<SolvedRef> | undefined;
  readonly rootfs: SolvedRootfs;
  readonly imported: ImportedCache | undefined;
}

/** CacheLayerSettings is how a cache's layer blobs are made. */
export interface CacheLayerSettings {
  readonly compression: LayerCompression;
  /**
   * The epoch (seconds) an image rewritten with rewrite-timestamp clamped its layers' file times to: its inline cache
   * lists them alike, to be its blobs. Other caches keep the layers as built, as BuildKit's do.
   */
  readonly sourceDateEpoch?: number;
}

/** inlineCacheConfig returns the image config with the final image's cache records in it, when `type=inline` is asked for. */
export async function withInlineCache(image: ImageConfig, specs: readonly CacheExportSpec[], subject: CacheExportSubject, layers: CacheLayerSettings, deps: CacheTransferDeps): Promise<ImageConfig> {
  if (!specs.some((s) => s.type === 'inline')) return image;
  const config = await cacheConfig([subject], 'min', layers, deps);
  const withCache: ImageConfig & { [INLINE_CACHE_FIELD]?: CacheConfig } = { ...image };
  withCache[INLINE_CACHE_FIELD] = config;
  return withCache;
}

/**
 * exportCaches writes the registry and local caches the request asks for, with the records of every solve given (one
 * per platform of a build of several). One with ignore-error that fails is shown failed with a warning, and the build
 * goes on, as in BuildKit.
 */
export async function exportCaches(specs: readonly CacheExportSpec[], subjects: readonly CacheExportSubject[], deps: CacheTransferDeps): Promise<void> {
  for (const spec of specs) {
    if (spec.type === 'inline') continue;
    try {
      await reportStep(deps.progress, `exporting cache to ${spec.type} ${spec.target}`, (step) => exportCache(spec, step, subjects, deps));
    } catch (err) {
      if (!spec.ignoreError || deps.signal.aborted || !(err instanceof TbuildError)) throw err;
      warn(deps, `Ignoring the failed cache export to ${spec.type} "${spec.target}": ${err.message}`);
    }
  }
}

async function exportCache(spec: CacheExportSpec & { type: 'registry' | 'local' }, step: string, subjects: readonly CacheExportSubject[], deps: CacheTransferDeps): Promise<void> {
  const config = await cacheConfig(subjects, spec.mode, { compression: spec.compression }, deps);
  const { pushCacheArtifact, writeCacheArtifact, writeCacheLayout } = await import('../exporter/lazy.js');
  const artifact = await writeCacheArtifact(config, { imageManifest: spec.imageManifest, ociMediaTypes: spec.ociMediaTypes, store: deps.store.content, signal: deps.signal });
  // Imported layers are listed as they are: a registry finds or mounts them, a folder needs them downloaded.
  // Every platform of a build imports the same caches: the first import fetches for all.
  const imported = subjects.find((s) => s.imported !== undefined)?.imported;
  const fetch = (blobs: readonly Descriptor[]): Promise<void> => imported?.fetch(blobs, { vertex: step, signal: deps.signal, progress: deps.progress }) ?? Promise.resolve();
  if (spec.type === 'registry') {
    const blobs = storeBlobOpener(deps.store, (blob) => fetch([blob]));
    await pushCacheArtifact(artifact, spec.target, { registry: await deps.registry(), blobs, signal: deps.signal, onProgress: pushStatus({ sink: deps.progress, vertex: step }) });
  } else {
    await fetch(artifact.layers);
    await writeCacheLayout(artifact, spec.target, { store: deps.store.content, signal: deps.signal });
  }
}

/**
 * cacheConfig lists the records of the solve: every op result (max) or those in the final image (min). A result
 * held here is listed by its snapshots; one still in an imported cache by its imported blobs, which are not fetched.
 */
async function cacheConfig(subjects: readonly CacheExportSubject[], mode: 'min' | 'max', layers: CacheLayerSettings, deps: CacheTransferDeps): Promise<CacheConfig> {
  const records: CacheExportRecord[] = [];
  // A step shared by several platforms is one record.
  const listed = new Set<string>();
  for (const subject of subjects) {
    for (const r of subjectRecords(subject, mode, deps.store)) {
      if (listed.has(r.key)) continue;
      listed.add(r.key);
      records.push(r);
    }
  }
  const { buildCacheConfig } = await import('../exporter/lazy.js');
  return buildCacheConfig(records, { ...layers, store: deps.store.content, cache: deps.store.layerBlobs, signal: deps.signal });
}

/** subjectRecords lists one solve's records: every op result (max) or those in its final image (min). */
function subjectRecords(subject: CacheExportSubject, mode: 'min' | 'max', store: Store): CacheExportRecord[] {
  const final = new Set(prefixesOf(subject.rootfs.layers()));
  const records: CacheExportRecord[] = [];
  for (const solved of subject.outcome?.vertices.values() ?? []) {
    if (solved.vertex.op.kind === 'source') continue;
    // A result found by its content key in an imported cache is held under that key only.
    const chain = chainOf(solved.key, store, subject.imported) ?? (solved.contentKey === undefined ? undefined : chainOf(solved.contentKey, store, subject.imported));
    if (chain === undefined) continue;
    if (mode === 'min' && chain.length > 0 && !final.has(prefixesOf(chain).pop() ?? '')) continue;
    records.push({ key: solved.key, chain });
    // Its key by the files it read goes along, so a build elsewhere whose stage changed but made the same files hits.
    if (solved.contentKey !== undefined) records.push({ key: solved.contentKey, chain });
    // A result taken from an imported cache brings the other keys it was listed under there: its key by the files it
    // read was not computed on this hit, and exporting again must list what the imported cache did.
    for (const alias of subject.imported?.aliasesOf(solved.key) ?? []) records.push({ key: alias, chain });
  }
  return records;
}

/** chainOf returns the layers of a key's result: its snapshots when held here, else its imported blobs, else undefined. */
export function chainOf(key: Digest, store: Store, imported: ImportedCache | undefined): readonly ExportLayer[] | undefined {
  const rec = store.cacheKeys.lookup(key);
  const local = rec !== undefined && (rec.resultId === null || store.snapshotter.exists(rec.resultId)) ? rec.resultId : undefined;
  // Vertices under an imported hit were never loaded; their layers may be here already.
  const snapshotId = local !== undefined ? local : imported?.findLocal(key);
  if (snapshotId !== undefined) return snapshotLayers(store, snapshotId);
  const chain = imported?.chainOf(key);
  return chain === undefined ? undefined : importedLayers(chain);
}

/** prefixesOf names each prefix of a layer chain, so a record is found in the final image by its whole chain. */
export function prefixesOf(chain: readonly ExportLayer[]): string[] {
  const out: string[] = [];
  let prefix = '';
  for (const layer of chain) {
    prefix = `${prefix}/${layer.kind === 'blob' ? layer.descriptor.digest : layer.id}`;
    out.push(prefix);
  }
  return out;
}

/** rememberLocations notes that an imported registry cache's blobs are in its repository, as mount sources for pushes. */
async function rememberLocations(refText: string, cache: LoadedCache, locations: BlobLocations): Promise<void> {
  const ref = parseReference(refText);
  for (const layer of cache.config.layers) await locations.add(ref.registry, layer.digest, ref.repository);
}

function warn(deps: CacheTransferDeps, message: string): void {
  deps.progress.emit({ type: 'warning', message, time: Date.now() });
}

