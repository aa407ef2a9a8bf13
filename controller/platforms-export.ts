import { join } from 'node:path';
import { ExportError } from '../base/errors.js';
import { formatPlatform, type Platform } from '../base/oci.js';
import { normalizePlatform } from '../base/platform.js';
import { pushAttestationManifest, storePlatformIndex, writeLocalDir, writeOciIndexArchive, writeRootfsTars, type AttestationManifest, type BuiltImage, type PlatformIndex } from '../exporter/index.js';
import { attestedLayers, type AttestedLayers, type AttestedOutput } from './attestations.js';
import { formatReference, parseReference } from '../registry/index.js';
import { createImageBuilder, exportEpoch, heldBy, setFileMode, type ExportDeps, type ExportSubject, type ExportSummary } from './outputs.js';
import { groupPushTargets, pushBuiltImage, storeBlobOpener } from './push-output.js';
import { reportStep } from './progress-step.js';
import type { ImageExportOptions, OutputSpec } from './request.js';
import type { Store } from './store.js';
import { nameImage } from './image-naming.js';

/** PlatformSubject is one platform's solved build, ready to export. */
export interface PlatformSubject {
  readonly platform: Platform;
  readonly subject: ExportSubject;
  readonly deps: ExportDeps;
}

/** folderOf names a platform's output folder as buildx does: linux/arm/v7 → linux_arm_v7. */
function folderOf(p: Platform): string {
  return formatPlatform(normalizePlatform(p)).replaceAll('/', '_');
}

/**
 * exportPlatforms writes several platforms' results to every output: one OCI image index listing each platform's
 * image (pushed or in an OCI archive), or one folder per platform (local and tar outputs).
 */
export async function exportPlatforms(outputs: readonly OutputSpec[], subjects: readonly PlatformSubject[]): Promise<ExportSummary> {
  const [first] = subjects;
  if (first === undefined) throw new ExportError('Cannot export a build of no platform');
  const { store, signal, progress } = first.deps;
  const builders = subjects.map((s) => createImageBuilder(s.subject, s.deps));
  const imagesFor = (o: ImageExportOptions, digestOnly = false): Promise<BuiltImage[]> => Promise.all(builders.map((b) => b(o, digestOnly)));
  const fetchAll = async (images: readonly BuiltImage[], step: string): Promise<void> => {
    for (const [i, image] of images.entries()) await subjects[i]?.subject.rootfs.fetch(image.manifest.layers, step);
  };
  // One attestation manifest per platform's image, made by that platform's build (its own provenance and SBOM).
  const attestationsOf = async (images: readonly BuiltImage[], names: readonly string[], output: Exclude<AttestedOutput, 'files'>, o: ImageExportOptions): Promise<(AttestationManifest | undefined)[]> => {
    const out: (AttestationManifest | undefined)[] = [];
    for (const [i, image] of images.entries()) out.push(await subjects[i]?.subject.attester?.manifest(image, names, output, o));
    return out;
  };
  let summary: ExportSummary = { names: [] };
  for (const output of outputs) {
    switch (output.type) {
      case 'image': {
        // As for one platform: an index kept only here lists its layers uncompressed, by digest.
        const images = await imagesFor(output.push ? output.image : { ...output.image, compression: 'uncompressed', forceCompression: true }, !output.push);
        const kept = await storePlatformIndex(images, store.content, { ...indexAnnotations(output.image), signal });
        const names = output.names.map((n) => formatReference(parseReference(n)));
        await reportStep(progress, `naming to ${names.join(', ') || 'image store'}`, async (step) => {
          if (!output.push) await fetchAll(images, step);
          await storeIndex(kept, names, subjects, store);
        });
        // As for one platform, attestations go to the pushed index only; the image store keeps the images.
        const attestations = output.push ? await attestationsOf(images, names, 'push', output.image) : [];
        const index = attestations.some((a) => a !== undefined) ? await storePlatformIndex(images, store.content, { ...indexAnnotations(output.image), attestations, signal }) : kept;
        let pushedDigest: string | undefined;
        for (const target of output.push ? groupPushTargets(names) : []) {
          const label = [target.name, ...target.tags.map((t) => `:${t}`)].join(', ');
          pushedDigest = await reportStep(progress, `pushing ${label}`, async (step) => {
            const registry = await first.deps.registry();
            const byDigest = { ...target, ref: { registry: target.ref.registry, repository: target.ref.repository }, tags: [] };
            // Each platform's manifest goes up by digest, then the index under the tags.
            for (const [i, image] of images.entries()) {
              const rootfs = subjects[i]?.subject.rootfs;
              await pushBuiltImage(image, byDigest, { registry, store, signal, ...(rootfs === undefined ? {} : { fetch: (blob) => rootfs.fetch([blob], step) }) });
              // Its attestation manifest follows the image it names as subject.
              const attestation = attestations[i];
              if (attestation !== undefined) await pushAttestationManifest(attestation, image, target.ref, storeBlobOpener(store), { registry, signal });
            }
            const pushed = await registry.pushImage(
              target.ref,
              { manifest: index.bytes, manifestMediaType: index.descriptor.mediaType, config: undefined, layers: [] },
              storeBlobOpener(store),
              { signal, tags: target.tags },
            );
            return pushed.digest;
          });
        }
        // The image ID is the stored index's digest (as Docker's containerd image store names images), which an
        // attested push index is not.
        summary = { imageId: kept.descriptor.digest, manifestDigest: index.descriptor.digest, ...(pushedDigest === undefined ? {} : { pushedDigest }), names: [...summary.names, ...names] };
        break;
      }
      case 'oci': {
        const images = await imagesFor(output.image);
        const names = output.names.map((n) => formatReference(parseReference(n)));
        const attestations = await attestationsOf(images, names, 'oci', output.image);
        const index = await storePlatformIndex(images, store.content, { ...indexAnnotations(output.image), attestations, signal });
        await reportStep(progress, 'exporting to oci image format', async (step) => {
          await fetchAll(images, step);
          await writeOciIndexArchive(index, store.content, output.dest, { names, ...exportEpoch(output.image, first.subject.sourceDateEpoch), signal });
          await setFileMode(output.dest, first.deps.fileMode);
        });
        summary = { ...summary, manifestDigest: index.descriptor.digest };
        break;
      }
      case 'docker':
      case 'load':
        throw new ExportError('docker exporter does not currently support exporting manifest lists');
      case 'local':
        await reportStep(progress, `copying files to ${output.dest}`, async (step) => {
          for (const s of subjects) {
            // Each platform's folder holds its own attestation files, as with BuildKit's platform-split.
            await using fs = await attestedLayers(s.subject.attester, await s.subject.rootfs.snapshots(step), exportEpoch(output, s.subject.sourceDateEpoch));
            await writeLocalDir(fs.layers, join(output.dest, folderOf(s.platform)), { ...exportEpoch(output, s.subject.sourceDateEpoch), signal });
          }
        });
        break;
      case 'tar':
        await reportStep(progress, 'sending tarball', async (step) => {
          const held: AttestedLayers[] = [];
          try {
            const platforms = [];
            for (const s of subjects) {
              const fs = await attestedLayers(s.subject.attester, await s.subject.rootfs.snapshots(step), exportEpoch(output, s.subject.sourceDateEpoch));
              held.push(fs);
              platforms.push({ folder: folderOf(s.platform), layers: fs.layers });
            }
            await writeRootfsTars(platforms, output.dest, { ...exportEpoch(output, first.subject.sourceDateEpoch), signal });
            await setFileMode(output.dest, first.deps.fileMode);
          } finally {
            for (const fs of held) await fs[Symbol.asyncDispose]();
          }
        });
        break;
    }
  }
  return summary;
}

function indexAnnotations(o: ImageExportOptions): { annotations?: Readonly<Record<string, string>> } {
  return o.annotations === undefined ? {} : { annotations: o.annotations.index };
}

/**
 * storeIndex names an image index in the local image store: the record lists each platform's image and keeps its
 * layers alive, as a stored image of one platform does.
 */
async function storeIndex(index: PlatformIndex, names: readonly string[], subjects: readonly PlatformSubject[], store: Store): Promise<void> {
  const parts = index.images.map((image, i) => {
    const rootfs = subjects[i]?.subject.rootfs;
    return { manifestDigest: image.manifestDescriptor.digest, configDigest: image.manifest.config.digest, ...(rootfs === undefined ? { snapshotId: null } : heldBy(rootfs)) };
  });
  const [first] = parts;
  if (first === undefined) return;
  const { manifestDigest: _first, ...held } = first;
  const { digest, mediaType, size } = index.descriptor;
  await nameImage(store, { ...held, manifestDigest: digest, manifestMediaType: mediaType, manifestSize: size, createdAt: Date.now(), platforms: parts }, names);
}
