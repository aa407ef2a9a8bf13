import type { BuiltImage, PlatformIndex } from '../../exporter/index.js';
import { nameImage, recordRepoDigest } from '../image-naming.js';
import { groupPushTargets, pushBuiltImage, storeBlobOpener, type PushTarget } from '../push-output.js';
import { reportStep } from '../progress-step.js';
import type { ImageExportOptions } from '../request.js';
import type { SolvedRootfs } from '../solved-rootfs.js';
import type { Store } from '../store.js';
import { heldBy, imageNames, platformIndexAnnotations, rootOf, type ExporterFactory, type PlatformSubject, type ExportSummary } from './types.js';

/** imageExporter keeps the image in the local image store under its names, and pushes it when asked. */
export const imageExporter: ExporterFactory<'image'> = (output) => ({
  async exportOne({ subject, deps, imageFor }): Promise<ExportSummary> {
    const { rootfs } = subject;
    const { store, signal } = deps;
    // An image that stays in the local store needs its layers' digests, not compressed blobs: those are made
    // when it is pushed, as the Docker Engine does. Every layer is listed uncompressed, base and imported ones
    // too, so the image's manifest is the same whether its layers were pulled, built or imported.
    const image = await imageFor(storedOptions(output.image, output.push), !output.push);
    const names = imageNames(output.names);
    await reportStep(deps.progress, `naming to ${names.join(', ') || 'image store'}`, async (step) => {
      // A pushed image's imported layers stay in the registry; one kept only here needs its blobs here.
      if (!output.push) await rootfs.fetch(image.manifest.layers, step);
      await storeImage(image, storedNames(names, image.manifestDescriptor.digest, output.nameCanonical), rootfs, store);
    });
    let pushedDigest: string | undefined;
    const attested = output.push ? await subject.attester?.attest(image, names, 'push', output.image) : undefined;
    for (const target of output.push ? pushTargets(names, output.pushByDigest) : []) {
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
      await recordRepoDigest(store, image.manifest.config.digest, { ref: target.ref, digest: pushedDigest });
    }
    return {
      imageId: image.manifest.config.digest,
      manifestDigest: image.manifestDescriptor.digest,
      descriptor: rootOf(attested?.index.descriptor ?? image.manifestDescriptor, image),
      ...(pushedDigest === undefined ? {} : { pushedDigest }),
      names,
    };
  },

  async exportPlatforms({ subjects, first, imagesFor, fetchAll, attestationsOf }): Promise<ExportSummary> {
    const { store, signal, progress } = first.deps;
    const { pushAttestationManifest, storePlatformIndex } = await import('../../exporter/lazy.js');
    // As for one platform: an index kept only here lists its layers uncompressed, by digest.
    const images = await imagesFor(storedOptions(output.image, output.push), !output.push);
    const kept = await storePlatformIndex(images, store.content, { ...platformIndexAnnotations(output.image), signal });
    const names = imageNames(output.names);
    await reportStep(progress, `naming to ${names.join(', ') || 'image store'}`, async (step) => {
      if (!output.push) await fetchAll(images, step);
      await storeIndex(kept, storedNames(names, kept.descriptor.digest, output.nameCanonical), subjects, store);
    });
    // As for one platform, attestations go to the pushed index only; the image store keeps the images.
    const attestations = output.push ? await attestationsOf(images, names, 'push', output.image) : [];
    const index = attestations.some((a) => a !== undefined) ? await storePlatformIndex(images, store.content, { ...platformIndexAnnotations(output.image), attestations, signal }) : kept;
    let pushedDigest: string | undefined;
    for (const target of output.push ? pushTargets(names, output.pushByDigest) : []) {
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
      await recordRepoDigest(store, kept.descriptor.digest, { ref: target.ref, digest: pushedDigest });
    }
    // The image ID is the stored index's digest (as Docker's containerd image store names images), which an
    // attested push index is not.
    return { imageId: kept.descriptor.digest, manifestDigest: index.descriptor.digest, descriptor: rootOf(index.descriptor), ...(pushedDigest === undefined ? {} : { pushedDigest }), names };
  },
});

/**
 * pushTargets are the repositories an image goes to, each with its tags; with `push-by-digest=true` by digest only,
 * as BuildKit pushes it, leaving the repository's tags as they were.
 */
function pushTargets(names: readonly string[], byDigest: boolean | undefined): PushTarget[] {
  const targets = groupPushTargets(names);
  return byDigest === true ? targets.map((t) => ({ ...t, ref: { registry: t.ref.registry, repository: t.ref.repository }, tags: [] })) : targets;
}

/** storedNames are the names an image is kept under: with `name-canonical=true` each also as NAME@DIGEST, as BuildKit's. */
function storedNames(names: readonly string[], digest: string, canonical: boolean | undefined): string[] {
  return canonical === true ? names.flatMap((n) => (n.includes('@') ? [n] : [n, `${n.replace(/:[^:/]*$/, '')}@${digest}`])) : [...names];
}

/** storedOptions are the options of an image kept only in the local store: its layers listed uncompressed, by digest. */
function storedOptions(o: ImageExportOptions, push: boolean): ImageExportOptions {
  return push ? o : { ...o, compression: 'uncompressed', forceCompression: true };
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

/**
 * storeIndex names an image index in the local image store: the record lists each platform's image and keeps its
 * layers alive, as a stored image of one platform does.
 */
async function storeIndex(index: PlatformIndex, names: readonly string[], subjects: readonly PlatformSubject[], store: Store): Promise<void> {
  const parts = index.images.map((image, i) => {
    const rootfs = subjects[i]?.subject.rootfs;
    return { manifestDigest: image.manifestDescriptor.digest, configDigest: image.manifest.config.digest, ...(rootfs === undefined ? { snapshotId: null } : heldBy(rootfs)) };
  });
  const [head] = parts;
  if (head === undefined) return;
  const { manifestDigest: _head, ...held } = head;
  const { digest, mediaType, size } = index.descriptor;
  await nameImage(store, { ...held, manifestDigest: digest, manifestMediaType: mediaType, manifestSize: size, createdAt: Date.now(), platforms: parts }, names);
}
