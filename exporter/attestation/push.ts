import type { Digest } from '../../base/digest.js';
import type { BlobOpener, PushOptions, Reference, RegistryClient } from '../../registry/index.js';
import type { BuiltImage } from '../image.js';
import type { AttestationManifest, AttestedImage } from './attach.js';
import { pushReferrers } from './referrers.js';

/** PushAttestedOptions are the registry and the push's tags, signal and progress. */
export interface PushAttestedOptions extends PushOptions {
  readonly registry: RegistryClient;
}

/**
 * pushAttestationManifest pushes an image's attestation manifest and its blobs by digest (after the image it names as
 * subject, which strict registries require); with `referrers`, it then lists it as a referrer of the image (see
 * pushReferrers).
 */
export async function pushAttestationManifest(attestation: AttestationManifest, image: BuiltImage, ref: Reference, blobs: BlobOpener, o: PushAttestedOptions): Promise<void> {
  const byDigest: Reference = { registry: ref.registry, repository: ref.repository };
  const options = { signal: o.signal, ...(o.onProgress === undefined ? {} : { onProgress: o.onProgress }) };
  const layers = attestation.layers.map((l) => l.descriptor);
  await o.registry.pushImage(byDigest, { manifest: attestation.bytes, manifestMediaType: attestation.descriptor.mediaType, config: attestation.config.descriptor, layers }, blobs, options);
  if (attestation.referrers) await pushReferrers(attestation, image, ref, { registry: o.registry, signal: o.signal });
}

/**
 * pushAttestedImage pushes an image with its attestations: the image manifest and its blobs by digest, then the
 * attestation manifest, then the index under the reference's tag and every extra tag. It returns the index digest,
 * the digest the tags name.
 */
export async function pushAttestedImage(attested: AttestedImage, ref: Reference, blobs: BlobOpener, o: PushAttestedOptions): Promise<Digest> {
  const { registry, ...options } = o;
  const { image, attestation, index } = attested;
  const byDigest: Reference = { registry: ref.registry, repository: ref.repository };
  const childOptions = { signal: o.signal, ...(o.onProgress === undefined ? {} : { onProgress: o.onProgress }) };
  await registry.pushImage(
    byDigest,
    { manifest: image.manifestBytes, manifestMediaType: image.manifestDescriptor.mediaType, config: image.manifest.config, layers: image.manifest.layers },
    blobs,
    childOptions,
  );
  await pushAttestationManifest(attestation, image, ref, blobs, o);
  const pushed = await registry.pushImage(ref, { manifest: index.bytes, manifestMediaType: index.descriptor.mediaType, config: undefined, layers: [] }, blobs, options);
  return pushed.digest;
}
