import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { canonicalJson } from '../base/canonical-json.js';
import { digestOf } from '../base/digest.js';
import { readTextIfExists } from '../base/fs.js';
import type { Descriptor } from '../base/oci.js';
import {
  imagePackageUrl,
  imageSubjects,
  makeStatement,
  provenancePredicate,
  provenanceV1,
  spdxDocument,
  SLSA_PROVENANCE_V02,
  SLSA_PROVENANCE_V1,
  SPDX_PREDICATE_TYPE,
  type PackageScan,
  type ProvenanceCapture,
  type Statement,
  type StatementSubject,
} from '../exporter/lazy.js';
import type { BuiltImage } from '../exporter/index.js';
import type { SolveOutcome } from '../solver/index.js';
import type { ImportedCache, SolvedRef } from '../solver/ops/index.js';
import { chainOf, prefixesOf } from './cache-transfer.js';
import type { ImageResolutions } from './provenance-capture.js';
import type { AttestationSpec } from './request.js';
import type { SolvedRootfs } from './solved-rootfs.js';
import type { Store } from './store.js';

/** StatementTarget is what a statement is about: an image (its manifest, under each of its names) or an output's files. */
export type StatementTarget =
  | { readonly kind: 'image'; readonly image: BuiltImage; readonly names: readonly string[] }
  | { readonly kind: 'files'; readonly subjects: readonly StatementSubject[] };

/** StatementDeps is what making a statement reads: the solved build, its provenance capture and shared parts. */
export interface StatementDeps {
  readonly store: Store;
  readonly rootfs: SolvedRootfs;
  readonly outcome: SolveOutcome<SolvedRef> | undefined;
  readonly imported: ImportedCache | undefined;
  readonly capture: ProvenanceCapture;
  /** The base images the build resolved, whose layers mode=max maps to the step that pulled them. */
  readonly images: ImageResolutions;
  /** SOURCE_DATE_EPOCH (seconds): the SBOM is dated by it when set. */
  readonly sourceDateEpoch?: number;
  /** The package databases of the build's filesystem (read once for every target). */
  readonly packages: () => Promise<PackageScan>;
  /** `tbuild-VERSION`, the SBOM's creator. */
  readonly tool: () => Promise<string>;
}

/** subjectsOf names a target: an image once per name with its platform, files by path. */
function subjectsOf(target: StatementTarget): StatementSubject[] {
  if (target.kind === 'files') return [...target.subjects];
  const { image } = target;
  const platform = image.manifestDescriptor.platform ?? { os: image.config.os, architecture: image.config.architecture };
  return imageSubjects(target.names, image.manifestDescriptor.digest, platform);
}

/** sbomSubject is what an SBOM describes: the image by its first name (or digest), or the files by a digest of their list. */
function sbomSubject(target: StatementTarget): { imageName: string; imageDigest: string; imagePurl?: string } {
  if (target.kind === 'files') return { imageName: 'rootfs', imageDigest: digestOf(canonicalJson(target.subjects)) };
  const { image, names } = target;
  const first = names[0];
  const platform = image.manifestDescriptor.platform ?? { os: image.config.os, architecture: image.config.architecture };
  return { imageName: first ?? image.manifestDescriptor.digest, imageDigest: image.manifestDescriptor.digest, ...(first === undefined ? {} : { imagePurl: imagePackageUrl(first, platform) }) };
}

/** statementOf makes one attestation of a target: its SPDX SBOM or its SLSA provenance. */
export async function statementOf(spec: AttestationSpec, target: StatementTarget, deps: StatementDeps): Promise<Statement> {
  const subjects = subjectsOf(target);
  switch (spec.type) {
    case 'sbom': {
      const created = deps.sourceDateEpoch === undefined ? new Date() : new Date(deps.sourceDateEpoch * 1000);
      const doc = spdxDocument(await deps.packages(), { ...sbomSubject(target), created: created.toISOString().replace(/\.\d+Z$/, 'Z'), tool: await deps.tool() });
      return makeStatement(SPDX_PREDICATE_TYPE, doc, subjects);
    }
    case 'provenance': {
      const predicate = provenancePredicate(deps.capture, {
        mode: spec.mode,
        ...(spec.builderId === undefined ? {} : { builderId: spec.builderId }),
        ...(spec.reproducible === undefined ? {} : { reproducible: spec.reproducible }),
        finishedOn: new Date(),
        dockerfileVersion: await builderVersion(),
        ...(spec.mode === 'max' && target.kind === 'image' ? { layers: stepLayers(target.image, deps) } : {}),
      });
      return spec.version === 'v1' ? makeStatement(SLSA_PROVENANCE_V1, provenanceV1(predicate), subjects) : makeStatement(SLSA_PROVENANCE_V02, predicate, subjects);
    }
  }
}

/**
 * stepLayers maps each step whose result the image holds (its layer chain is a bottom part of the image's) to the
 * image's layers up to it, as BuildKit's provenance records the layers of each step's result.
 */
function stepLayers(image: BuiltImage, deps: StatementDeps): Map<string, readonly Descriptor[]> {
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
export async function builderVersion(): Promise<string> {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    const text = await readTextIfExists(join(dir, 'package.json'));
    const pkg: unknown = text === null ? undefined : JSON.parse(text);
    if (typeof pkg === 'object' && pkg !== null && 'name' in pkg && pkg.name === 'tbuild' && 'version' in pkg) return String(pkg.version);
  }
  return 'unknown';
}

