import type { Digest } from '../base/digest.js';
import type { ReferrerDescriptor } from './client.js';
import { referrerEntries } from './referrers-tag.js';
import { RegistryError } from '../base/errors.js';
import { pullScope } from './auth.js';
import { isRecord, readBytes } from './read-body.js';
import type { Reference } from './reference.js';
import type { ResolveContext } from './resolve.js';
import { responseError } from './transport.js';

const MAX_INDEX_SIZE = 4 * 1024 * 1024;

/**
 * referrersFromEndpoint asks the OCI 1.1 referrers API which manifests name `digest` as their subject (their digests). undefined means
 * the registry has no such API (404), and referrers are listed under the fallback tag `sha256-HEX` instead.
 */
export async function referrersFromEndpoint(ctx: ResolveContext, ref: Reference, digest: Digest): Promise<readonly ReferrerDescriptor[] | undefined> {
  const res = await ctx.transport.send({
    method: 'GET',
    endpoint: ctx.endpoint,
    credentialsHost: ctx.credentialsHost,
    url: `/v2/${ref.repository}/referrers/${digest}`,
    scope: pullScope(ref.repository),
    operation: ctx.operation,
    headers: { accept: 'application/vnd.oci.image.index.v1+json' },
    signal: ctx.signal,
  });
  if (res.statusCode === 404) {
    await res.body.dump();
    return undefined;
  }
  if (res.statusCode !== 200) throw await responseError(ctx.operation, res);
  const doc: unknown = JSON.parse(Buffer.from(await readBytes(res, MAX_INDEX_SIZE)).toString('utf8'));
  if (!isRecord(doc) || !Array.isArray(doc['manifests'])) {
    throw new RegistryError(`${ctx.operation.action} "${ctx.operation.ref}": the referrers answer is no image index`, { ref: ctx.operation.ref });
  }
  return referrerEntries(doc['manifests']);
}
