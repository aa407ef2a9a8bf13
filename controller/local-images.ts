import { UsageError } from '../base/errors.js';
import { hostPlatform, type ImageConfig, type ImageIndex, type ImageManifest } from '../base/oci.js';
import type { ProgressSink } from '../base/progress.js';
import { imageParts, type ImageRecord } from '../cache/index.js';
import type { SavedImage } from '../exporter/index.js';
import { formatReference, parseReference } from '../registry/index.js';
import type { LoadedImage } from './image-load.js';
import { imageIdOf, isDangling, nameImage, recordRepoDigest } from './image-naming.js';
import { reportStep } from './progress-step.js';
import { pushBuiltImage, pushStatus, storeBlobOpener } from './push-output.js';
import { openRegistryAccess } from './registry-access.js';
import { createStoredBlobLocations } from './stored-blob-locations.js';
import { exportableImage, findStoredImage, nameOf, namesOfImage, readJsonBlob } from './stored-image.js';
import type { Store } from './store.js';

/** PushRequest names a stored image to push and the registry settings and credentials to push it with. */
export interface PushRequest {
  readonly name: string;
  /** Settings file (mirrors, CAs, plain-HTTP hosts); the controller's own when unset. */
  readonly registryConfigPath?: string;
  /** Folder of the caller's Docker config.json, with registry credentials. */
  readonly dockerConfigDir?: string;
}

/** InspectedImage is a stored image as `tbuild inspect` shows it: Docker's fields, then its manifest (or index) and config. */
export interface InspectedImage {
  readonly Id: string;
  readonly RepoTags: readonly string[];
  /** Where the image was pushed, `REPOSITORY@sha256:…` (familiar names, as RepoTags). */
  readonly RepoDigests: readonly string[];
  readonly Created: string;
  readonly Architecture: string;
  readonly Os: string;
  readonly Variant?: string;
  readonly Size: number;
  readonly Config: ImageConfig['config'];
  readonly RootFS: { readonly Type: string; readonly Layers: readonly string[] };
  readonly Descriptor: { readonly mediaType: string; readonly digest: string; readonly size: number };
  readonly Manifest: ImageManifest | ImageIndex;
  readonly Image: ImageConfig;
  readonly History: NonNullable<ImageConfig['history']>;
}

/** LocalImages works on the local image store beyond listing it: name, push, save, load and inspect its images. */
export interface LocalImages {
  /** tag gives the image `source` names (a name or an ID) the name `target`, as `docker tag` does. */
  tag(source: string, target: string): Promise<void>;
  /** push sends a stored image (an index with each platform's image) to the registry its name says; returns the pushed digest. */
  push(request: PushRequest, o: { signal: AbortSignal; progress: ProgressSink }): Promise<string>;
  /** save writes images (by name or ID) into one archive `docker load` reads, also an OCI layout. */
  save(args: readonly string[], dest: string | NodeJS.WritableStream, o: { signal: AbortSignal }): Promise<void>;
  /** load reads a docker or OCI archive into the store. */
  load(input: NodeJS.ReadableStream, o: { signal: AbortSignal }): Promise<LoadedImage[]>;
  /** inspect describes images by name or ID. */
  inspect(args: readonly string[]): Promise<InspectedImage[]>;
}

/** createLocalImages works on a store's images; pushes use `settingsFile` unless a request names its own. */
export function createLocalImages(store: Store, settingsFile: string | undefined): LocalImages {
  return {
    async tag(source, target) {
      const rec = findStoredImage(store, source);
      const { name: _name, ...image } = rec;
      await nameImage(store, image, [formatReference(parseReference(target))]);
    },
    async push(request, o) {
      const ref = parseReference(request.name);
      const name = formatReference(ref);
      const rec = store.meta.images.get(name);
      if (rec === undefined) throw new UsageError(`Cannot push ${request.name}: no such image in the local image store`, { hint: "'tbuild tag IMAGE NAME' names an image first" });
      await using _lease = await store.lease.hold();
      await using registry = await openRegistryAccess(request.registryConfigPath ?? settingsFile, createStoredBlobLocations(store.meta), request.dockerConfigDir);
      const digest = await reportStep(o.progress, `pushing ${name}`, async (step) => {
        const client = await registry.client();
        const exportable = await exportableImage(store, rec, { compression: 'gzip', signal: o.signal });
        const progress = { sink: o.progress, vertex: step };
        if (exportable.kind === 'image') return pushBuiltImage(exportable.image, { ref, name, tags: [] }, { registry: client, store, signal: o.signal, progress });
        // Each platform's manifest goes up by digest, then the index under the name, as a build's push does.
        const byDigest = { ref: { registry: ref.registry, repository: ref.repository }, name, tags: [] };
        const { pushAttestationManifest } = await import('../exporter/lazy.js');
        for (const [i, image] of exportable.index.images.entries()) {
          await pushBuiltImage(image, byDigest, { registry: client, store, signal: o.signal, progress });
          // An attestation the index keeps follows the image it names as subject, as a build's push sends them.
          const attestation = exportable.index.attestations[i];
          if (attestation !== undefined) await pushAttestationManifest(attestation, image, ref, storeBlobOpener(store), { registry: client, signal: o.signal });
        }
        const { index } = exportable;
        const pushed = await client.pushImage(ref, { manifest: index.bytes, manifestMediaType: index.descriptor.mediaType, config: undefined, layers: [] }, storeBlobOpener(store), {
          signal: o.signal,
          tags: [],
          onProgress: pushStatus(progress),
        });
        return pushed.digest;
      });
      await recordRepoDigest(store, imageIdOf(rec), { ref, digest });
      return digest;
    },
    async save(args, dest, o) {
      if (args.length === 0) throw new UsageError('Cannot save: name at least one image');
      // The blobs and snapshots a save makes and reads are leased, as a build's are.
      await using _lease = await store.lease.hold();
      const saved: SavedImage[] = [];
      for (const arg of args) {
        const rec = findStoredImage(store, arg);
        // As docker save: an image named by a name carries that name, one named by its ID none.
        const names = !isDangling(rec) && nameOf(arg) === rec.name ? [rec.name] : [];
        const exportable = await exportableImage(store, rec, { compression: 'uncompressed', signal: o.signal });
        if (exportable.kind === 'image') saved.push({ image: exportable.image, names });
        else saved.push({ image: platformImage(exportable.index.images), index: exportable.index, names });
      }
      const { writeSavedArchive } = await import('../exporter/lazy.js');
      await writeSavedArchive(saved, store.content, dest, o);
    },
    // Reading archives (tar-stream) loads with the first tbuild load, not with every build.
    load: async (input, o) => {
      // Blobs are written before the image record that keeps them: leased meanwhile, collection leaves them.
      await using _lease = await store.lease.hold();
      return (await import('./image-load.js')).loadImages(store, input, o);
    },
    async inspect(args) {
      const out: InspectedImage[] = [];
      for (const arg of args) out.push(await inspectRecord(store, findStoredImage(store, arg)));
      return out;
    },
  };
}

/** platformImage picks the image of an index `docker load` reads: the host's platform, else the first. */
function platformImage<T extends { readonly config: ImageConfig }>(images: readonly T[]): T {
  const host = hostPlatform();
  const [first] = images;
  const match = images.find((i) => i.config.os === host.os && i.config.architecture === host.architecture) ?? first;
  if (match === undefined) throw new UsageError('Cannot save an image index of no image');
  return match;
}

/** familiar shortens a stored name as Docker shows it: `docker.io/library/x:1` is `x:1`. */
function familiar(name: string): string {
  return name.replace(/^docker\.io\/(library\/)?/, '');
}

async function inspectRecord(store: Store, rec: ImageRecord): Promise<InspectedImage> {
  const top = await readJsonBlob<ImageManifest | ImageIndex>(store, rec.manifestDigest);
  const parts = await Promise.all(imageParts(rec).map(async (p) => ({ config: (await readJsonBlob<ImageConfig>(store, p.configDigest)).value, manifest: (await readJsonBlob<ImageManifest>(store, p.manifestDigest)).value })));
  const { config, manifest } = platformImage(parts);
  return {
    Id: imageIdOf(rec),
    RepoTags: namesOfImage(store, rec).map(familiar),
    RepoDigests: (rec.repoDigests ?? []).map(familiar),
    Created: config.created ?? '',
    Architecture: config.architecture,
    Os: config.os,
    ...(config.variant === undefined ? {} : { Variant: config.variant }),
    Size: manifest.layers.reduce((n, l) => n + l.size, 0),
    Config: config.config ?? {},
    RootFS: { Type: config.rootfs.type, Layers: config.rootfs.diff_ids },
    Descriptor: { mediaType: rec.manifestMediaType, digest: rec.manifestDigest, size: rec.manifestSize },
    Manifest: top.value,
    Image: config,
    History: config.history ?? [],
  };
}
