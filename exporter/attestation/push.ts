import type { Digest } from '../../base/digest.js';
import type { BlobOpener, PushOptions, Reference, RegistryClient } from '../../registry/index.js';
import type { AttestedImage } from './attach.js';
import { pushReferrers } from './referrers.js';

/** PushAttestedOptions are the registry and the push's tags, signal and progress. */
export interface PushAttestedOptions extends PushOptions {
  readonly registry: RegistryClient;
}

/**
 * pushAttestedImage pushes an image with its attestations: the image manifest and its blobs by digest, then the
 * attestation manifest (after the image it names as subject, which strict registries require), then the index under
 * the reference's tag and every extra tag; with `referrers`, it then lists the attestation manifest as a referrer of
 * the image (see pushReferrers). It returns the index digest, the digest the tags name.
 */
export async function pushAttestedImage(attested: AttestedImage, ref: Reference, blobs: BlobOpener, o: PushAttestedOptions): Promise<Digest> {
  const { registry, ...options } = o;
  const byDigest: Reference = { registry: ref.registry, repository: ref.repository };
  const childOptions = { signal: o.signal, ...(o.onProgress === undefined ? {} : { onProgress: o.onProgress }) };
  const { image, attestation, index } = attested;
  await registry.pushImage(
    byDigest,
    { manifest: image.manifestBytes, manifestMediaType: image.manifestDescriptor.mediaType, config: image.manifest.config, layers: image.manifest.layers },
    blobs,
    childOptions,
  );
  await registry.pushImage(
    byDigest,
    { manifest: attestation.bytes, manifestMediaType: attestation.descriptor.mediaType, config: attestation.config.descriptor, layers: attestation.layers.map((l) => l.descriptor) },
    blobs,
    childOptions,
  );
  const pushed = await registry.pushImage(ref, { manifest: index.bytes, manifestMediaType: index.descriptor.mediaType, config: undefined, layers: [] }, blobs, options);
  if (attested.referrers) await pushReferrers(attested, ref, { registry, signal: o.signal });
  return pushed.digest;
}
