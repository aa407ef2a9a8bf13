import { isDigest, type Digest } from '../base/digest.js';
import { InternalError, RegistryError } from '../base/errors.js';
import { MEDIA_TYPES } from '../base/oci.js';
import type { ReferrerDescriptor, RegistryClient } from './client.js';
import { isRecord } from './read-body.js';
import { referrersTag, type Reference } from './reference.js';

/** referrerEntries reads the entries of a referrers index (the API's answer, or the fallback tag's index). */
export function referrerEntries(manifests: readonly unknown[]): ReferrerDescriptor[] {
  return manifests.flatMap((m): ReferrerDescriptor[] => {
    if (!isRecord(m) || typeof m['digest'] !== 'string' || !isDigest(m['digest']) || typeof m['size'] !== 'number') return [];
    const artifactType = typeof m['artifactType'] === 'string' ? { artifactType: m['artifactType'] } : {};
    return [{ mediaType: typeof m['mediaType'] === 'string' ? m['mediaType'] : '', digest: m['digest'], size: m['size'], ...artifactType }];
  });
}

/** tagReferrers reads the fallback referrers index of a manifest (tag `sha256-HEX`): none when the tag is not there. */
async function tagReferrers(client: RegistryClient, repo: Reference, subject: Digest, o: { signal: AbortSignal }): Promise<ReferrerDescriptor[]> {
  try {
    const fetched = await client.fetchManifest({ registry: repo.registry, repository: repo.repository, tag: referrersTag(subject) }, o);
    const doc: unknown = JSON.parse(Buffer.from(fetched.bytes).toString('utf8'));
    return isRecord(doc) && Array.isArray(doc['manifests']) ? referrerEntries(doc['manifests']) : [];
  } catch (err) {
    if (err instanceof RegistryError && err.status === 404) return [];
    throw err;
  }
}

/**
 * listReferrers lists the manifests naming `subject` as theirs in a repository: through the registry's OCI 1.1
 * referrers API, else (`api` false) from the fallback tag `sha256-HEX` the distribution spec's tag schema keeps.
 */
export async function listReferrers(client: RegistryClient, repo: Reference, subject: Digest, o: { signal: AbortSignal }): Promise<{ referrers: ReferrerDescriptor[]; api: boolean }> {
  const viaApi = await client.referrers(repo, subject, o);
  if (viaApi !== undefined) return { referrers: [...viaApi], api: true };
  return { referrers: await tagReferrers(client, repo, subject, o), api: false };
}

/**
 * addTagReferrers adds manifests to the fallback referrers index of `subject` in a registry without the referrers
 * API, keeping the referrers it lists already.
 */
export async function addTagReferrers(client: RegistryClient, repo: Reference, subject: Digest, entries: readonly ReferrerDescriptor[], o: { signal: AbortSignal }): Promise<void> {
  const listed = await tagReferrers(client, repo, subject, o);
  const added = entries.filter((e) => !listed.some((d) => d.digest === e.digest));
  if (added.length === 0) return;
  const index = { schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [...listed, ...added] };
  const noBlobs = (): Promise<NodeJS.ReadableStream> => Promise.reject(new InternalError('Cannot read a blob for a referrers index: it lists manifests only'));
  const tagged = { registry: repo.registry, repository: repo.repository, tag: referrersTag(subject) };
  await client.pushImage(tagged, { manifest: Buffer.from(JSON.stringify(index, null, 2)), manifestMediaType: MEDIA_TYPES.ociIndex, config: undefined, layers: [] }, noBlobs, o);
}
