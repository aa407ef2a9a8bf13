import { chmod } from 'node:fs/promises';
import { isSpecialDestination } from '../../base/fs.js';
import { ExportError } from '../../base/errors.js';
import { formatPlatform, type ImageBase, type ImageConfig, type Platform } from '../../base/oci.js';
import { normalizePlatform } from '../../base/platform.js';
import type { ProgressSink } from '../../base/progress.js';
import type { AttestationManifest, BuiltImage } from '../../exporter/index.js';
import type { RegistryClient } from '../../registry/index.js';
import { formatReference, parseReference } from '../../registry/index.js';
import type { AttestedOutput, ImageAttester } from '../attestations.js';
import type { ImageExportOptions, OutputDest, OutputSpec, RootDescriptor } from '../request.js';
import type { SolvedRootfs } from '../solved-rootfs.js';
import type { Store } from '../store.js';

/** ExportSubject is a solved build: its filesystem and the image config the Dockerfile described. */
export interface ExportSubject {
  readonly rootfs: SolvedRootfs;
  readonly image: ImageConfig;
  /** SOURCE_DATE_EPOCH as the build resolved it (a --build-arg or a global ARG default). */
  readonly sourceDateEpoch?: string;
  /** What the image keeps from its base image, which the epoch leaves as it is. */
  readonly base?: ImageBase;
  /** Attaches the build's attestations (`--attest`) to pushed images and OCI archives. */
  readonly attester?: ImageAttester;
}

/** ExportDeps is what writing outputs needs, and the caller's Docker engine and umask. */
export interface ExportDeps {
  readonly store: Store;
  readonly registry: () => Promise<RegistryClient>;
  readonly signal: AbortSignal;
  readonly progress: ProgressSink;
  /** DOCKER_HOST of the caller, for `--load`. */
  readonly dockerHost: string | undefined;
  /** Mode of the archive files the outputs write (0666 without the caller's umask). */
  readonly fileMode: number;
}

/** ExportSummary is what the outputs produced. */
export interface ExportSummary {
  readonly imageId?: string;
  readonly manifestDigest?: string;
  readonly pushedDigest?: string;
  /** The top object the image outputs made (BuildKit's `containerimage.descriptor`). */
  readonly descriptor?: RootDescriptor;
  readonly names: readonly string[];
}

/**
 * rootOf is a descriptor's media type, digest and size, as BuildKit's exporters answer it; the image manifest of one
 * platform also names its platform.
 */
export function rootOf(d: RootDescriptor, image?: BuiltImage): RootDescriptor {
  const { architecture, os, variant } = image?.config ?? {};
  const platform = architecture === undefined || os === undefined ? undefined : { architecture, os, ...(variant === undefined ? {} : { variant }) };
  return { mediaType: d.mediaType, digest: d.digest, size: d.size, ...(platform === undefined || d !== image?.manifestDescriptor ? {} : { platform }) };
}

/** ImageBuilder makes the subject's image for an output's options, once per distinct options. */
export type ImageBuilder = (o: ImageExportOptions, digestOnly?: boolean) => Promise<BuiltImage>;

/** SingleExport is the build of one platform an output is written from. */
export interface SingleExport {
  readonly subject: ExportSubject;
  readonly deps: ExportDeps;
  readonly imageFor: ImageBuilder;
}

/** PlatformSubject is one platform's solved build, ready to export. */
export interface PlatformSubject {
  readonly platform: Platform;
  readonly subject: ExportSubject;
  readonly deps: ExportDeps;
}

/** PlatformsExport is the build of several platforms an output is written from, each platform's image made once. */
export interface PlatformsExport {
  readonly subjects: readonly PlatformSubject[];
  /** The first platform, whose deps (store, registry, progress, file mode) every platform shares. */
  readonly first: PlatformSubject;
  /** Every platform's image for an output's options, in the order of `subjects`. */
  readonly imagesFor: (o: ImageExportOptions, digestOnly?: boolean) => Promise<BuiltImage[]>;
  /** Downloads the imported layers of every platform's image not yet held here. */
  readonly fetchAll: (images: readonly BuiltImage[], step: string) => Promise<void>;
  /** One attestation manifest per platform's image, made by that platform's build (its own provenance and SBOM). */
  readonly attestationsOf: (images: readonly BuiltImage[], names: readonly string[], output: Exclude<AttestedOutput, 'files'>, o: ImageExportOptions) => Promise<(AttestationManifest | undefined)[]>;
}

/** OutputExporter writes a build's result to one output; the summary it returns is merged into the build's. */
export interface OutputExporter {
  exportOne(run: SingleExport): Promise<ExportSummary>;
  exportPlatforms(run: PlatformsExport): Promise<ExportSummary>;
}

/** OutputType names a kind of output (`--output type=...`). */
export type OutputType = OutputSpec['type'];

/** OutputOf is the spec of one kind of output. */
export type OutputOf<T extends OutputType> = OutputSpec & { readonly type: T };

/** ExporterFactory makes the exporter of one output of its kind. */
export type ExporterFactory<T extends OutputType> = (output: OutputOf<T>) => OutputExporter;

/** ExporterTable holds the factory of every kind of output: a new kind is one more entry, which the compiler asks for. */
export type ExporterTable = { readonly [T in OutputType]: ExporterFactory<T> };

/** imageNames are an output's image names in their canonical form. */
export function imageNames(names: readonly string[]): string[] {
  return names.map((n) => formatReference(parseReference(n)));
}

/** platformIndexAnnotations are the index annotations of an output's image index (`annotation-index.*`). */
export function platformIndexAnnotations(o: ImageExportOptions): { annotations?: Readonly<Record<string, string>> } {
  return o.annotations === undefined ? {} : { annotations: o.annotations.index };
}

/** setFileMode gives an archive file the caller's mode (the process's own umask applied when it was created). */
export async function setFileMode(dest: OutputDest, mode: number): Promise<void> {
  // A device or pipe written into (dest=/dev/null) keeps its own mode.
  if (typeof dest === 'string' && !(await isSpecialDestination(dest))) await chmod(dest, mode);
}

/** platformFolder names a platform's output folder as buildx does: linux/arm/v7 → linux_arm_v7. */
export function platformFolder(p: Platform): string {
  return formatPlatform(normalizePlatform(p)).replaceAll('/', '_');
}

/**
 * exportEpoch is the epoch an output uses, as BuildKit's exporters pick it: the output's own `source-date-epoch`
 * (given empty: none), else SOURCE_DATE_EPOCH as the build resolved it.
 */
export function exportEpoch(o: { readonly sourceDateEpoch?: number | null }, resolved: string | undefined): { sourceDateEpoch?: number } {
  if (o.sourceDateEpoch === undefined) return sourceDateEpoch(resolved);
  return o.sourceDateEpoch === null ? {} : { sourceDateEpoch: o.sourceDateEpoch };
}

/** sourceDateEpoch is the SOURCE_DATE_EPOCH an export dates its output by, as the build resolved it. */
function sourceDateEpoch(raw: string | undefined): { sourceDateEpoch?: number } {
  if (raw === undefined || raw === '') return {};
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new ExportError(`Cannot use SOURCE_DATE_EPOCH="${raw}": expected a whole number of seconds`);
  return { sourceDateEpoch: n };
}

/** heldBy is what keeps a stored image's layers alive: its top snapshot, or imported layers not unpacked by their blobs. */
export function heldBy(rootfs: SolvedRootfs): { readonly snapshotId: string | null; readonly blobs?: readonly string[] } {
  const top = rootfs.top();
  const blobs = top === null ? rootfs.layers().flatMap((l) => (l.kind === 'blob' ? [l.descriptor.digest] : [])) : [];
  return { snapshotId: top, ...(blobs.length === 0 ? {} : { blobs }) };
}
