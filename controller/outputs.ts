import { chmod } from 'node:fs/promises';
import { ExportError } from '../base/errors.js';
import type { ImageBase, ImageConfig } from '../base/oci.js';
import type { ProgressSink } from '../base/progress.js';
import { buildImage, dockerEndpoint, loadIntoDocker, writeDockerArchive, writeLocalDir, writeOciArchive, writeRootfsTar, type BuiltImage } from '../exporter/index.js';
import { createDigestOnlyStore } from '../cache/index.js';
import type { RegistryClient } from '../registry/index.js';
import { formatReference, parseReference } from '../registry/index.js';
import { groupPushTargets, pushBuiltImage } from './push-output.js';
import type { ImageExportOptions, OutputDest, OutputSpec } from './request.js';
import type { Store } from './store.js';
import { reportStep } from './progress-step.js';
import type { SolvedRootfs } from './solved-rootfs.js';
import { attestedLayers, type ImageAttester } from './attestations.js';
import { nameImage } from './image-naming.js';

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
  readonly names: readonly string[];
}

/** ImageBuilder makes the subject's image for an output's options, once per distinct options. */
export type ImageBuilder = (o: ImageExportOptions, digestOnly?: boolean) => Promise<BuiltImage>;

/** createImageBuilder makes a subject's images, sharing one creation time and the images of equal options. */
export function createImageBuilder(subject: ExportSubject, deps: ExportDeps): ImageBuilder {
  const { store, signal } = deps;
  const { rootfs } = subject;
  const built = new Map<string, Promise<BuiltImage>>();
  // One creation time for every image of this build (SOURCE_DATE_EPOCH replaces it when set).
  const created = new Date().toISOString();
  return (o: ImageExportOptions, digestOnly = false): Promise<BuiltImage> => {
    const epoch = exportEpoch(o, subject.sourceDateEpoch);
    const rewrite = o.rewriteTimestamp === true && epoch.sourceDateEpoch !== undefined;
    const key = JSON.stringify([o.compression, o.compressionLevel ?? '', o.forceCompression, o.annotations?.manifest ?? {}, digestOnly, epoch.sourceDateEpoch ?? '', rewrite]);
    let p = built.get(key);
    if (p === undefined) {
      p = reportStep(deps.progress, 'exporting layers', async (step) =>
        buildImage(
          { layers: await rootfs.imageLayers({ ...o, rewriteTimestamp: rewrite }, step), config: subject.image, ...(o.annotations === undefined ? {} : { annotations: { ...o.annotations.manifest } }) },
          {
            compression: o.compression,
            forceCompression: o.forceCompression,
            created,
            ...(o.compressionLevel === undefined ? {} : { level: o.compressionLevel }),
            ...epoch,
            ...(rewrite ? { rewriteTimestamp: true } : {}),
            ...(subject.base === undefined ? {} : { base: subject.base }),
            store: store.content,
            ...(digestOnly ? { layerStore: createDigestOnlyStore() } : {}),
            cache: store.layerBlobs,
            signal,
          },
        ),
      );
      built.set(key, p);
    }
    return p;
  };
}

/** exportOutputs writes a solved build to every requested output. */
export async function exportOutputs(outputs: readonly OutputSpec[], subject: ExportSubject, deps: ExportDeps): Promise<ExportSummary> {
  const { store, signal } = deps;
  const { rootfs } = subject;
  const imageFor = createImageBuilder(subject, deps);
  let summary: ExportSummary = { names: [] };
  for (const output of outputs) {
    switch (output.type) {
      case 'image': {
        // An image that stays in the local store needs its layers' digests, not compressed blobs: those are made
        // when it is pushed, as the Docker Engine does. Every layer is listed uncompressed, base and imported ones
        // too, so the image's manifest is the same whether its layers were pulled, built or imported.
        const image = await imageFor(output.push ? output.image : { ...output.image, compression: 'uncompressed', forceCompression: true }, !output.push);
        const names = output.names.map((n) => formatReference(parseReference(n)));
        await reportStep(deps.progress, `naming to ${names.join(', ') || 'image store'}`, async (step) => {
          // A pushed image's imported layers stay in the registry; one kept only here needs its blobs here.
          if (!output.push) await rootfs.fetch(image.manifest.layers, step);
          await storeImage(image, names, rootfs, store);
        });
        let pushedDigest: string | undefined;
        const attested = output.push ? await subject.attester?.attest(image, names, 'push', output.image) : undefined;
        if (output.push) {
          for (const target of groupPushTargets(names)) {
            const label = [target.name, ...target.tags.map((t) => `:${t}`)].join(', ');
            pushedDigest = await reportStep(deps.progress, `pushing ${label}`, async (step) =>
              // An imported layer is downloaded only when the registry can neither find nor mount it.
              pushBuiltImage(image, target, {
                registry: await deps.registry(),
                store,
                signal,
                fetch: (blob) => rootfs.fetch([blob], step),
                progress: { sink: deps.progress, vertex: step },
                ...(attested === undefined ? {} : { attested }),
              }),
            );
          }
        }
        summary = {
          imageId: image.manifest.config.digest,
          manifestDigest: image.manifestDescriptor.digest,
          ...(pushedDigest === undefined ? {} : { pushedDigest }),
          names: [...summary.names, ...names],
        };
        break;
      }
      case 'oci':
      case 'docker': {
        const image = await imageFor(output.image);
        const names = output.names.map((n) => formatReference(parseReference(n)));
        const write = output.type === 'oci' ? writeOciArchive : writeDockerArchive;
        const attested = output.type === 'oci' ? await subject.attester?.attest(image, names, 'oci', output.image) : undefined;
        await reportStep(deps.progress, `exporting to ${output.type} image format`, async (step) => {
          await rootfs.fetch(image.manifest.layers, step);
          const options = { names, ...exportEpoch(output.image, subject.sourceDateEpoch), ...indexAnnotations(output.image), signal };
          await write(image, store.content, output.dest, attested === undefined ? options : { ...options, attested });
          await setFileMode(output.dest, deps.fileMode);
        });
        summary = { ...summary, imageId: image.manifest.config.digest, manifestDigest: image.manifestDescriptor.digest };
        break;
      }
      case 'load': {
        const image = await imageFor(output.image);
        const names = output.names.map((n) => formatReference(parseReference(n)));
        await reportStep(deps.progress, 'loading the image into Docker', async (step) => {
          await rootfs.fetch(image.manifest.layers, step);
          await loadIntoDocker(image, store.content, { names, endpoint: dockerEndpoint(deps.dockerHost), signal });
        });
        summary = { ...summary, imageId: image.manifest.config.digest, manifestDigest: image.manifestDescriptor.digest };
        break;
      }
      // As BuildKit's local and tar exporters, every file is given the epoch as its time.
      case 'local':
        await reportStep(deps.progress, `copying files to ${output.dest}`, async (step) => {
          // Attestations go into the folder as files, as BuildKit's local exporter writes them.
          await using fs = await attestedLayers(subject.attester, await rootfs.snapshots(step), exportEpoch(output, subject.sourceDateEpoch));
          await writeLocalDir(fs.layers, output.dest, { ...exportEpoch(output, subject.sourceDateEpoch), signal });
        });
        break;
      case 'tar':
        await reportStep(deps.progress, 'sending tarball', async (step) => {
          await using fs = await attestedLayers(subject.attester, await rootfs.snapshots(step), exportEpoch(output, subject.sourceDateEpoch));
          await writeRootfsTar(fs.layers, output.dest, { ...exportEpoch(output, subject.sourceDateEpoch), signal });
          await setFileMode(output.dest, deps.fileMode);
        });
        break;
    }
  }
  return summary;
}

function indexAnnotations(o: ImageExportOptions): { indexAnnotations?: Readonly<Record<string, string>> } {
  return o.annotations === undefined ? {} : { indexAnnotations: o.annotations.index };
}

/** setFileMode gives an archive file the caller's mode (the process's own umask applied when it was created). */
export async function setFileMode(dest: OutputDest, mode: number): Promise<void> {
  if (typeof dest === 'string') await chmod(dest, mode);
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
export function sourceDateEpoch(raw: string | undefined): { sourceDateEpoch?: number } {
  if (raw === undefined || raw === '') return {};
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new ExportError(`Cannot use SOURCE_DATE_EPOCH="${raw}": expected a whole number of seconds`);
  return { sourceDateEpoch: n };
}

async function storeImage(image: BuiltImage, names: readonly string[], rootfs: SolvedRootfs, store: Store): Promise<void> {
  const { snapshotId: top, blobs = [] } = heldBy(rootfs);
  await nameImage(store, {
    manifestDigest: image.manifestDescriptor.digest,
    manifestMediaType: image.manifestDescriptor.mediaType,
    manifestSize: image.manifestDescriptor.size,
    configDigest: image.manifest.config.digest,
    snapshotId: top,
    ...(blobs.length === 0 ? {} : { blobs }),
    createdAt: Date.now(),
  }, names);
}

/** heldBy is what keeps a stored image's layers alive: its top snapshot, or imported layers not unpacked by their blobs. */
export function heldBy(rootfs: SolvedRootfs): { readonly snapshotId: string | null; readonly blobs?: readonly string[] } {
  const top = rootfs.top();
  const blobs = top === null ? rootfs.layers().flatMap((l) => (l.kind === 'blob' ? [l.descriptor.digest] : [])) : [];
  return { snapshotId: top, ...(blobs.length === 0 ? {} : { blobs }) };
}
