import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readTextIfExists } from '../base/fs.js';
import type { Descriptor } from '../base/oci.js';
import type { ProgressSink } from '../base/progress.js';
import {
  attestedIndex,
  imagePackageUrl,
  imageSubjects,
  makeStatement,
  provenancePredicate,
  provenanceV1,
  scanPackages,
  spdxDocument,
  writeAttestationManifest,
  SLSA_PROVENANCE_V02,
  SLSA_PROVENANCE_V1,
  SPDX_PREDICATE_TYPE,
  type AttestationManifest,
  type AttestedImage,
  type BuiltImage,
  type PackageScan,
  type ProvenanceCapture,
  type Statement,
} from '../exporter/index.js';
import type { SolveOutcome } from '../solver/index.js';
import type { ImportedCache, SolvedRef } from '../solver/ops/index.js';
import { chainOf, prefixesOf } from './cache-transfer.js';
import { captureProvenance, type CaptureInput, type ImageResolutions } from './provenance-capture.js';
import type { AttestationSpec, BuildRequest, ImageExportOptions, OutputSpec } from './request.js';
import { reportStep } from './progress-step.js';
import type { SolvedRootfs } from './solved-rootfs.js';
import type { Store } from './store.js';

/** AttestedOutput is where an image goes: pushed images take every attestation, OCI archives all but inline-only ones. */
export type AttestedOutput = 'push' | 'oci';

/** ImageAttester attaches a build's attestations to the images its outputs write. */
export interface ImageAttester {
  /** manifest stores the attestation manifest of an image; undefined when no attestation goes to the output. */
  manifest(image: BuiltImage, names: readonly string[], output: AttestedOutput, options: ImageExportOptions): Promise<AttestationManifest | undefined>;
  /** attest stores the attestation manifest of an image and the index listing both; undefined when none go to the output. */
  attest(image: BuiltImage, names: readonly string[], output: AttestedOutput, options: ImageExportOptions): Promise<AttestedImage | undefined>;
}

/** AttesterDeps is what making attestations reads: the solved build and the store that holds it. */
export interface AttesterDeps {
  readonly store: Store;
  readonly rootfs: SolvedRootfs;
  readonly outcome: SolveOutcome<SolvedRef> | undefined;
  readonly imported: ImportedCache | undefined;
  readonly capture: ProvenanceCapture;
  /** The base images the build resolved, whose layers mode=max maps to the step that pulled them. */
  readonly images: ImageResolutions;
  /** SOURCE_DATE_EPOCH (seconds): the SBOM is dated by it when set. */
  readonly sourceDateEpoch?: number;
  readonly signal: AbortSignal;
  readonly progress: ProgressSink;
}

/** createImageAttester returns the attester of a build's attestation specs, or undefined when it asked for none. */
export function createImageAttester(specs: readonly AttestationSpec[], deps: AttesterDeps): ImageAttester | undefined {
  if (specs.length === 0) return undefined;
  let scan: Promise<PackageScan> | undefined;
  let tool: Promise<string> | undefined;
  const made: StatementMakers = {
    // The files an SBOM reads are unpacked (an imported result) once, whichever image asks first.
    packages: (step) => (scan ??= deps.rootfs.snapshots(step).then((layers) => scanPackages(layers.map((l) => l.dir), { signal: deps.signal }))),
    tool: () => (tool ??= builderVersion().then((v) => `tbuild-${v}`)),
  };
  const manifest: ImageAttester['manifest'] = async (image, names, output, options) => {
    // As BuildKit: an SBOM first (the frontend's), then the provenance (added after the build).
    const wanted = specs.filter((s) => output === 'push' || s.type !== 'provenance' || s.inlineOnly !== true).sort((a, b) => (a.type === b.type ? 0 : a.type === 'sbom' ? -1 : 1));
    if (wanted.length === 0) return undefined;
    return reportStep(deps.progress, 'exporting attestation manifest', async (step) => {
      const statements: Statement[] = [];
      for (const spec of wanted) statements.push(await statementOf(spec, image, names, { ...deps, ...made, step }));
      return writeAttestationManifest(image, statements, {
        ociArtifact: options.ociArtifact ?? true,
        ...(options.referrers === true && output === 'push' ? { referrers: true } : {}),
        store: deps.store.content,
        signal: deps.signal,
      });
    });
  };
  return {
    manifest,
    async attest(image, names, output, options) {
      const attestation = await manifest(image, names, output, options);
      if (attestation === undefined) return undefined;
      const indexAnnotations = options.annotations === undefined ? {} : { indexAnnotations: options.annotations.index };
      return attestedIndex(image, attestation, { ...indexAnnotations, store: deps.store.content, signal: deps.signal });
    },
  };
}

/** StatementMakers are the parts of statements shared by every image of a build. */
interface StatementMakers {
  readonly packages: (step: string) => Promise<PackageScan>;
  readonly tool: () => Promise<string>;
}

/** statementOf makes one attestation of an image: its SPDX SBOM or its SLSA provenance, about each of its names. */
async function statementOf(spec: AttestationSpec, image: BuiltImage, names: readonly string[], deps: AttesterDeps & StatementMakers & { step: string }): Promise<Statement> {
  const platform = image.manifestDescriptor.platform ?? { os: image.config.os, architecture: image.config.architecture };
  const subjects = imageSubjects(names, image.manifestDescriptor.digest, platform);
  switch (spec.type) {
    case 'sbom': {
      const created = deps.sourceDateEpoch === undefined ? new Date() : new Date(deps.sourceDateEpoch * 1000);
      const first = names[0];
      const doc = spdxDocument(await deps.packages(deps.step), {
        imageName: first ?? image.manifestDescriptor.digest,
        imageDigest: image.manifestDescriptor.digest,
        ...(first === undefined ? {} : { imagePurl: imagePackageUrl(first, platform) }),
        created: created.toISOString().replace(/\.\d+Z$/, 'Z'),
        tool: await deps.tool(),
      });
      return makeStatement(SPDX_PREDICATE_TYPE, doc, subjects);
    }
    case 'provenance': {
      const predicate = provenancePredicate(deps.capture, {
        mode: spec.mode,
        ...(spec.builderId === undefined ? {} : { builderId: spec.builderId }),
        ...(spec.reproducible === undefined ? {} : { reproducible: spec.reproducible }),
        finishedOn: new Date(),
        ...(spec.mode === 'max' ? { layers: stepLayers(image, deps) } : {}),
      });
      return spec.version === 'v1' ? makeStatement(SLSA_PROVENANCE_V1, provenanceV1(predicate), subjects) : makeStatement(SLSA_PROVENANCE_V02, predicate, subjects);
    }
  }
}

/**
 * stepLayers maps each step whose result the image holds (its layer chain is a bottom part of the image's) to the
 * image's layers up to it, as BuildKit's provenance records the layers of each step's result.
 */
function stepLayers(image: BuiltImage, deps: AttesterDeps): Map<string, readonly Descriptor[]> {
  const imagePrefixes = prefixesOf(deps.rootfs.layers());
  const out = new Map<string, readonly Descriptor[]>();
  for (const solved of deps.outcome?.vertices.values() ?? []) {
    const { op } = solved.vertex;
    if (op.kind === 'source' && op.source.type === 'image') {
      // A base image's layers are held by their chain, not by the step: they are the image's bottom ones by diff ID.
      const base = deps.images.diffIdsOf(op.source.ref) ?? [];
      const diffIds = image.config.rootfs.diff_ids;
      if (base.length > 0 && base.every((d, i) => diffIds[i] === d)) out.set(solved.vertex.digest, image.manifest.layers.slice(0, base.length));
      continue;
    }
    const chain = chainOf(solved.key, deps.store, deps.imported) ?? (solved.contentKey === undefined ? undefined : chainOf(solved.contentKey, deps.store, deps.imported));
    if (chain === undefined || chain.length === 0) continue;
    const last = prefixesOf(chain).pop();
    const depth = last === undefined ? -1 : imagePrefixes.indexOf(last);
    if (depth >= 0) out.set(solved.vertex.digest, image.manifest.layers.slice(0, depth + 1));
  }
  return out;
}

/** builderVersion reads tbuild's version from the package.json above this module (sources, build output or bundle). */
async function builderVersion(): Promise<string> {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    const text = await readTextIfExists(join(dir, 'package.json'));
    const pkg: unknown = text === null ? undefined : JSON.parse(text);
    if (typeof pkg === 'object' && pkg !== null && 'name' in pkg && pkg.name === 'tbuild' && 'version' in pkg) return String(pkg.version);
  }
  return 'unknown';
}

/**
 * warnUnattested warns when asked-for attestations go to none of some outputs: tbuild attaches them to pushed images
 * and OCI archives only (BuildKit also keeps them in its image store and writes them as files into local and tar
 * outputs). The default provenance, meant for pushes only, never warns.
 */
export function warnUnattested(outputs: readonly OutputSpec[], specs: readonly AttestationSpec[], progress: ProgressSink): void {
  if (!specs.some((s) => s.type !== 'provenance' || s.inlineOnly !== true)) return;
  const left = outputs.flatMap((o) => (o.type === 'oci' || (o.type === 'image' && o.push) ? [] : [o.type === 'image' ? 'the local image store' : `${o.type} outputs`]));
  if (left.length === 0) return;
  progress.emit({ type: 'warning', message: `Attestations are not attached to ${[...new Set(left)].join(', ')}: only pushed images and OCI archives carry them`, time: Date.now() });
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
