import type { ProgressSink } from '../base/progress.js';
import type { AttestationManifest, AttestedImage, BuiltImage, PackageScan, Statement } from '../exporter/index.js';
import type { StatementDeps, StatementTarget } from './attestation-statements.js';
import { captureProvenance, type CaptureInput } from './provenance-capture.js';
import type { AttestationSpec, BuildRequest, ImageExportOptions, OutputSpec } from './request.js';
import { reportStep } from './progress-step.js';

/**
 * AttestedOutput is where a build's result goes: pushed images take every attestation; OCI archives and local and tar
 * outputs all but inline-only ones (buildx's default provenance).
 */
export type AttestedOutput = 'push' | 'oci' | 'files';

/** AttestedLayers are a filesystem's layers with a top one holding its attestation files, if any; disposing removes it. */
export interface AttestedLayers extends AsyncDisposable {
  readonly layers: readonly { readonly dir: string }[];
}

/** ImageAttester attaches a build's attestations to the images and files its outputs write. */
export interface ImageAttester {
  /** manifest stores the attestation manifest of an image; undefined when no attestation goes to the output. */
  manifest(image: BuiltImage, names: readonly string[], output: Exclude<AttestedOutput, 'files'>, options: ImageExportOptions): Promise<AttestationManifest | undefined>;
  /** attest stores the attestation manifest of an image and the index listing both; undefined when none go to the output. */
  attest(image: BuiltImage, names: readonly string[], output: Exclude<AttestedOutput, 'files'>, options: ImageExportOptions): Promise<AttestedImage | undefined>;
  /**
   * files adds the attestations of a local or tar output as files at its root (provenance.json, sbom.spdx.json), about
   * every regular file of the filesystem, as BuildKit's local and tar exporters write them, dated by the epoch if any.
   */
  files(layers: readonly { readonly dir: string }[], options: AttestationFileOptions): Promise<AttestedLayers>;
}

/**
 * AttestationFileOptions date the attestation files of a local or tar output, and name them after their platform
 * (`provenance.linux_amd64.json`) when several platforms share the output's root (platform-split=false).
 */
export interface AttestationFileOptions {
  readonly sourceDateEpoch?: number;
  readonly platformSuffix?: string;
}

// What makes and writes attestations loads when an output first takes one: a build that only keeps its image in the
// store (which holds none) never loads it.
const exporter = () => import('../exporter/lazy.js');
const statements = () => import('./attestation-statements.js');

/** attestationFileName is the file an attestation of a type is written as, with the platform before its extension. */
function attestationFileName(names: Readonly<Record<AttestationSpec['type'], string>>, type: AttestationSpec['type'], platformSuffix: string | undefined): string {
  const name = names[type];
  if (platformSuffix === undefined) return name;
  const dot = name.lastIndexOf('.');
  return `${name.slice(0, dot)}.${platformSuffix}${name.slice(dot)}`;
}

/** AttesterDeps is what making attestations reads: the solved build, its provenance, and the build's signal and progress. */
export type AttesterDeps = Omit<StatementDeps, 'packages' | 'tool'> & { readonly signal: AbortSignal; readonly progress: ProgressSink };

/** wantedFor picks the specs an output takes, SBOM first as in BuildKit (the frontend's), then the provenance. */
function wantedFor(specs: readonly AttestationSpec[], output: AttestedOutput): AttestationSpec[] {
  return specs.filter((s) => output === 'push' || s.type !== 'provenance' || s.inlineOnly !== true).sort((a, b) => (a.type === b.type ? 0 : a.type === 'sbom' ? -1 : 1));
}

/** createImageAttester returns the attester of a build's attestation specs, or undefined when it asked for none. */
export function createImageAttester(specs: readonly AttestationSpec[], deps: AttesterDeps): ImageAttester | undefined {
  if (specs.length === 0) return undefined;
  let scan: Promise<PackageScan> | undefined;
  let tool: Promise<string> | undefined;
  const statementsOf = async (wanted: readonly AttestationSpec[], target: StatementTarget, step: string): Promise<Statement[]> => {
    const [{ scanPackages }, { builderVersion, statementOf }] = await Promise.all([exporter(), statements()]);
    const shared: StatementDeps = {
      ...deps,
      // The files an SBOM reads are unpacked (an imported result) once, whichever output asks first.
      packages: () => (scan ??= deps.rootfs.snapshots(step).then((layers) => scanPackages(layers.map((l) => l.dir), { signal: deps.signal }))),
      tool: () => (tool ??= builderVersion().then((v) => `tbuild-${v}`)),
    };
    const out: Statement[] = [];
    for (const spec of wanted) out.push(await statementOf(spec, target, shared));
    return out;
  };
  const manifest: ImageAttester['manifest'] = async (image, names, output, options) => {
    const wanted = wantedFor(specs, output);
    if (wanted.length === 0) return undefined;
    const { writeAttestationManifest } = await exporter();
    return reportStep(deps.progress, 'exporting attestation manifest', async (step) =>
      writeAttestationManifest(image, await statementsOf(wanted, { kind: 'image', image, names }, step), {
        ociArtifact: options.ociArtifact ?? true,
        ...(options.referrers === true && output === 'push' ? { referrers: true } : {}),
        store: deps.store.content,
        signal: deps.signal,
      }),
    );
  };
  return {
    manifest,
    async attest(image, names, output, options) {
      const attestation = await manifest(image, names, output, options);
      if (attestation === undefined) return undefined;
      const indexAnnotations = options.annotations === undefined ? {} : { indexAnnotations: options.annotations.index };
      const { attestedIndex } = await exporter();
      return attestedIndex(image, attestation, { ...indexAnnotations, store: deps.store.content, signal: deps.signal });
    },
    async files(layers, options) {
      const wanted = wantedFor(specs, 'files');
      const top = layers.at(-1);
      if (wanted.length === 0) return { layers, [Symbol.asyncDispose]: () => Promise.resolve() };
      const { ATTESTATION_FILE_NAMES, fileSubjects, writeAttestationLayer } = await exporter();
      const layer = await reportStep(deps.progress, 'exporting attestations', async (step) => {
        const subjects = await fileSubjects(layers.map((l) => l.dir), { signal: deps.signal });
        const statements = await statementsOf(wanted, { kind: 'files', subjects }, step);
        const files = statements.map((statement, i) => ({ name: attestationFileName(ATTESTATION_FILE_NAMES, wanted[i]?.type ?? 'provenance', options.platformSuffix), statement }));
        const mtime = options.sourceDateEpoch === undefined ? new Date() : new Date(options.sourceDateEpoch * 1000);
        // A result without files (FROM scratch) gets its attestations alone, as BuildKit's exporters write them.
        return writeAttestationLayer(files, { tmp: deps.store.tmp, ...(top === undefined ? {} : { root: top.dir }), mtime });
      });
      return { layers: [...layers, { dir: layer.dir }], [Symbol.asyncDispose]: () => layer[Symbol.asyncDispose]() };
    },
  };
}

/** attestedLayers is a filesystem's layers with its attestation files on top, when the build asked for any. */
export async function attestedLayers(attester: ImageAttester | undefined, layers: readonly { readonly dir: string }[], options: AttestationFileOptions): Promise<AttestedLayers> {
  return attester === undefined ? { layers, [Symbol.asyncDispose]: () => Promise.resolve() } : attester.files(layers, options);
}

/**
 * warnUnattested warns when asked-for attestations go to none of some outputs: the local image store and Docker keep
 * none (BuildKit's image store would). The default provenance, meant for pushes only, never warns.
 */
export function warnUnattested(outputs: readonly OutputSpec[], specs: readonly AttestationSpec[], progress: ProgressSink): void {
  if (!specs.some((s) => s.type !== 'provenance' || s.inlineOnly !== true)) return;
  const left = outputs.flatMap((o) => (o.type === 'docker' || o.type === 'load' ? [`${o.type} outputs`] : o.type === 'image' && !o.push ? ['the local image store'] : []));
  if (left.length === 0) return;
  progress.emit({ type: 'warning', message: `Attestations are not attached to ${[...new Set(left)].join(', ')}: only pushed images, OCI archives and local and tar outputs carry them`, time: Date.now() });
}

/** BuildAttesterInput is what a solved build hands to its attestations. */
export type BuildAttesterInput = Omit<CaptureInput, 'request'> & Omit<AttesterDeps, 'capture' | 'sourceDateEpoch'> & { readonly sourceDateEpoch: number | undefined };

/**
 * createBuildAttester captures the provenance of a solved build and returns the attester of its `--attest` specs
 * (undefined without any), warning about outputs that take none.
 */
export function createBuildAttester(request: BuildRequest, input: BuildAttesterInput): ImageAttester | undefined {
  const specs = request.attestations ?? [];
  warnUnattested(request.outputs, specs, input.progress);
  if (specs.length === 0) return undefined;
  const { sourceDateEpoch, ...rest } = input;
  return createImageAttester(specs, { ...rest, capture: captureProvenance({ ...input, request }), ...(sourceDateEpoch === undefined ? {} : { sourceDateEpoch }) });
}

/**
 * metadataProvenance is the build's provenance as buildx writes it into --metadata-file (`buildx.build.provenance`):
 * the SLSA v0.2 predicate of the build's record, made in max mode, without buildConfig and metadata in min mode
 * (BUILDX_METADATA_PROVENANCE), as JSON text; undefined when the request asks for none.
 */
export async function metadataProvenance(request: BuildRequest, input: Omit<CaptureInput, 'request'>): Promise<string | undefined> {
  const mode = request.metadataProvenance;
  if (mode === undefined) return undefined;
  const { provenancePredicate } = await exporter();
  const predicate = provenancePredicate(captureProvenance({ ...input, request }), { mode: 'max', finishedOn: new Date() });
  if (mode === 'max') return JSON.stringify(predicate);
  const { buildConfig: _config, metadata: _metadata, ...min } = predicate;
  return JSON.stringify(min);
}
