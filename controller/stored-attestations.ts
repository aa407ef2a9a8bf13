import { readFile } from 'node:fs/promises';
import { parseDigest } from '../base/digest.js';
import type { Descriptor, ImageIndex, ImageManifest } from '../base/oci.js';
import type { AttestationManifest, BuiltImage } from '../exporter/index.js';
import type { PlatformImageRecord } from '../cache/index.js';
import type { Store } from './store.js';

/** ListedAttestation is an attestation manifest an image index lists, with the digest of the image manifest it is about. */
export interface ListedAttestation {
  readonly descriptor: Descriptor;
  readonly subject: string;
}

/** listedAttestations picks the attestation manifests of an index, as BuildKit marks them (vnd.docker.reference.*). */
export async function listedAttestations(index: ImageIndex): Promise<ListedAttestation[]> {
  const { ATTESTATION_REFERENCE_TYPE, REFERENCE_DIGEST_ANNOTATION, REFERENCE_TYPE_ANNOTATION } = await import('../exporter/lazy.js');
  return index.manifests.flatMap((descriptor) => {
    const subject = descriptor.annotations?.[REFERENCE_DIGEST_ANNOTATION];
    return descriptor.annotations?.[REFERENCE_TYPE_ANNOTATION] === ATTESTATION_REFERENCE_TYPE && subject !== undefined ? [{ descriptor, subject }] : [];
  });
}

/** readAttestation reads an attestation manifest, its config and its layers from the content store. */
async function readAttestation(store: Store, descriptor: Descriptor): Promise<AttestationManifest> {
  const read = (d: Descriptor): Promise<Buffer> => readFile(store.content.blobPath(parseDigest(d.digest)));
  const bytes = await read(descriptor);
  const manifest = JSON.parse(bytes.toString('utf8')) as ImageManifest & { readonly subject?: Descriptor };
  const layers = [];
  for (const l of manifest.layers) layers.push({ descriptor: l, bytes: await read(l) });
  return { descriptor, bytes, config: { descriptor: manifest.config, bytes: await read(manifest.config) }, layers, subject: manifest.subject !== undefined, referrers: false };
}

/**
 * keptAttestations are the attestation manifests a stored index (one loaded from an archive) lists for each image
 * that leaves the store: by the images' order, undefined for an image with none. An image whose manifest changed on
 * the way out (layers compressed for a push) is no longer the one its attestation names, and goes without it.
 */
export async function keptAttestations(store: Store, stored: ImageIndex, parts: readonly PlatformImageRecord[], images: readonly BuiltImage[]): Promise<(AttestationManifest | undefined)[]> {
  const listed = await listedAttestations(stored);
  const out: (AttestationManifest | undefined)[] = [];
  for (const [i, image] of images.entries()) {
    const digest = image.manifestDescriptor.digest;
    const found = digest === parts[i]?.manifestDigest ? listed.find((a) => a.subject === digest) : undefined;
    out.push(found === undefined ? undefined : await readAttestation(store, found.descriptor));
  }
  return out;
}
