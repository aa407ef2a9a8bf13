import { InternalError } from '../../base/errors.js';
import type { Reference, RegistryClient } from '../../registry/index.js';
import type { BuiltImage } from '../image.js';
import { ATTESTATION_ARTIFACT_TYPE, type AttestationManifest } from './attach.js';

/** ReferrersOutcome says how a pushed attestation manifest became a referrer of its image. */
export type ReferrersOutcome = 'api' | 'tag';

/**
 * pushReferrers makes a pushed image's attestation manifest (OCI artifact form, with its subject) known as a referrer
 * of the image. A registry with the OCI 1.1 referrers API indexed it when it was pushed; on one without, the
 * manifest is added to the image index under the fallback tag `sha256-HEX` of the image, as the distribution spec's
 * referrers tag schema says (the other referrers listed there are kept).
 */
export async function pushReferrers(attestation: AttestationManifest, image: BuiltImage, ref: Reference, o: { registry: RegistryClient; signal: AbortSignal }): Promise<ReferrersOutcome> {
  if (!attestation.subject) throw new InternalError('Cannot list an attestation manifest as a referrer: it names no subject (oci-artifact=false)');
  const subject = image.manifestDescriptor.digest;
  const repo: Reference = { registry: ref.registry, repository: ref.repository };
  if ((await o.registry.referrers(repo, subject, { signal: o.signal })) !== undefined) return 'api';
  const { descriptor } = attestation;
  const entry = { mediaType: descriptor.mediaType, digest: descriptor.digest, size: descriptor.size, artifactType: ATTESTATION_ARTIFACT_TYPE };
  const { addTagReferrers } = await import('../../registry/lazy.js');
  await addTagReferrers(o.registry, repo, subject, [entry], { signal: o.signal });
  return 'tag';
}
