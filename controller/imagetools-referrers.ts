import type { Digest } from '../base/digest.js';
import type { Reference } from '../registry/index.js';
import { copyManifest, type CopyOptions } from './imagetools-copy.js';
import type { ImagetoolsRegistry } from './imagetools-registry.js';

/** COPIED_ARTIFACT_TYPES are the referrers buildx's imagetools copies along: attestations and signatures. */
const COPIED_ARTIFACT_TYPES: ReadonlySet<string> = new Set([
  'application/vnd.docker.attestation.manifest.v1+json',
  'application/vnd.dev.cosign.artifact.sig.v1+json',
  'application/vnd.dev.sigstore.bundle.v0.3+json',
]);

/**
 * copyReferrers copies the attestation and signature manifests that name a manifest as their subject (found through
 * the referrers API, or the fallback tag `sha256-HEX`) into the target repository, as buildx copies a source's
 * referrers; a target registry without the referrers API lists them under its own fallback tag. Returns how many.
 */
export async function copyReferrers(registry: ImagetoolsRegistry, from: Reference, subject: Digest, to: Reference, o: CopyOptions): Promise<number> {
  const { addTagReferrers, listReferrers } = await import('../registry/lazy.js');
  const { referrers } = await listReferrers(registry.client, from, subject, o);
  const copied = referrers.filter((d) => d.artifactType !== undefined && COPIED_ARTIFACT_TYPES.has(d.artifactType));
  for (const d of copied) await copyManifest(registry, from, d.digest, to, o);
  if (copied.length === 0) return 0;
  // A registry with the API indexed them as they were pushed (by their subject field).
  if ((await registry.client.referrers(to, subject, o)) === undefined) await addTagReferrers(registry.client, to, subject, copied, o);
  return copied.length;
}
