import { InternalError, RegistryError } from '../../base/errors.js';
import { MEDIA_TYPES, type Descriptor } from '../../base/oci.js';
import { referrersTag, type Reference, type RegistryClient } from '../../registry/index.js';
import type { BuiltImage } from '../image.js';
import { ATTESTATION_ARTIFACT_TYPE, type AttestationManifest } from './attach.js';

/** ReferrersOutcome says how a pushed attestation manifest became a referrer of its image. */
export type ReferrersOutcome = 'api' | 'tag';

/** referrerEntries reads the descriptors of a fallback referrers index; anything else lists none. */
function referrerEntries(bytes: Uint8Array): Descriptor[] {
  const doc: unknown = JSON.parse(Buffer.from(bytes).toString('utf8'));
  if (typeof doc !== 'object' || doc === null || !('manifests' in doc) || !Array.isArray(doc.manifests)) return [];
  const manifests: unknown[] = doc.manifests;
  return manifests.filter((m): m is Descriptor => typeof m === 'object' && m !== null && 'digest' in m && typeof m.digest === 'string');
}

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
  const tagged: Reference = { ...repo, tag: referrersTag(subject) };
  let listed: Descriptor[] = [];
  try {
    listed = referrerEntries((await o.registry.fetchManifest(tagged, { signal: o.signal })).bytes);
  } catch (err) {
    if (!(err instanceof RegistryError && err.status === 404)) throw err;
  }
  const { descriptor } = attestation;
  if (listed.some((d) => d.digest === descriptor.digest)) return 'tag';
  const entry: Descriptor & { artifactType: string } = { mediaType: descriptor.mediaType, digest: descriptor.digest, size: descriptor.size, artifactType: ATTESTATION_ARTIFACT_TYPE };
  const index = { schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [...listed, entry] };
  const noBlobs = (): Promise<NodeJS.ReadableStream> => Promise.reject(new InternalError('Cannot read a blob for a referrers index: it lists manifests only'));
  await o.registry.pushImage(tagged, { manifest: Buffer.from(JSON.stringify(index, null, 2)), manifestMediaType: MEDIA_TYPES.ociIndex, config: undefined, layers: [] }, noBlobs, { signal: o.signal });
  return 'tag';
}
