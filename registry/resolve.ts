import { digestOf, isDigest, type Digest } from '../base/digest.js';
import { RegistryError } from '../base/errors.js';
import { MEDIA_TYPES, formatPlatform, type Descriptor, type ImageConfig, type ImageManifest, type Platform } from '../base/oci.js';
import { decodeImageConfig, decodeImageIndex, decodeImageManifest } from '../base/oci-decode.js';
import { pullScope } from './auth.js';
import type { Endpoint } from './endpoints.js';
import { selectPlatformManifest } from './platform-match.js';
import { isRecord, readBytes } from './read-body.js';
import type { Reference } from './reference.js';
import { firstHeader, responseError, type Operation, type Transport } from './transport.js';

/** ResolvedImage is a platform manifest with its config, pinned by digest. */
export interface ResolvedImage {
  readonly ref: Reference;
  /** Digest of the platform manifest. */
  readonly digest: Digest;
  /** Digest of the document the reference names: the index of a multi-platform image, else the manifest itself. */
  readonly namedDigest: Digest;
  readonly manifest: ImageManifest;
  readonly config: ImageConfig;
  readonly configDescriptor: Descriptor;
  /** Host actually used (a mirror or the origin). */
  readonly source: string;
}

/** MANIFEST_ACCEPT lists the manifest media types tbuild understands, for the Accept header. */
export const MANIFEST_ACCEPT = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifestList, MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest].join(', ');

const MAX_MANIFEST_SIZE = 4 * 1024 * 1024;
const MAX_CONFIG_SIZE = 8 * 1024 * 1024;
const INDEX_TYPES: ReadonlySet<string> = new Set([MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifestList]);
const MANIFEST_TYPES: ReadonlySet<string> = new Set([MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest]);

/** ResolveContext is what resolving needs from the client: one endpoint and the transport. */
export interface ResolveContext {
  readonly transport: Transport;
  readonly endpoint: Endpoint;
  readonly credentialsHost: string;
  readonly operation: Operation;
  readonly signal: AbortSignal;
}

/** FetchedManifest is a manifest or index document as the registry served it, digest-checked. */
export interface FetchedManifest {
  readonly bytes: Uint8Array;
  readonly digest: Digest;
  readonly mediaType: string;
}

/** resolveFromEndpoint resolves ref to a platform manifest and config on one endpoint. */
export async function resolveFromEndpoint(ctx: ResolveContext, ref: Reference, platform: Platform): Promise<ResolvedImage> {
  let fetched = await fetchManifest(ctx, ref, ref.digest ?? ref.tag ?? 'latest', ref.digest);
  const namedDigest = fetched.digest;
  if (INDEX_TYPES.has(fetched.mediaType)) {
    const index = decodeImageIndex(parseJson(ctx, fetched.bytes, 'image index'), ctx.operation);
    const chosen = selectPlatformManifest(index.manifests, platform);
    if (chosen === undefined) {
      throw new RegistryError(`${ctx.operation.action} "${ctx.operation.ref}": no manifest for platform ${formatPlatform(platform)}`, {
        code: 'REGISTRY_NOT_FOUND',
        ref: ctx.operation.ref,
      });
    }
    fetched = await fetchManifest(ctx, ref, chosen.digest, chosen.digest);
  }
  if (!MANIFEST_TYPES.has(fetched.mediaType)) throw malformed(ctx, `unsupported manifest media type "${fetched.mediaType}"`);
  const manifest = decodeImageManifest(parseJson(ctx, fetched.bytes, 'manifest'), ctx.operation);
  const config = await fetchConfig(ctx, ref, manifest.config);
  return { ref, digest: fetched.digest, namedDigest, manifest, config, configDescriptor: manifest.config, source: ctx.endpoint.host };
}

/**
 * manifestDigestFromEndpoint asks which document a reference names now with one HEAD request (its
 * Docker-Content-Digest header), fetching the document when a registry leaves that header out.
 */
export async function manifestDigestFromEndpoint(ctx: ResolveContext, ref: Reference): Promise<Digest> {
  const res = await ctx.transport.send({
    method: 'HEAD',
    endpoint: ctx.endpoint,
    credentialsHost: ctx.credentialsHost,
    url: `/v2/${ref.repository}/manifests/${ref.digest ?? ref.tag ?? 'latest'}`,
    scope: pullScope(ref.repository),
    operation: ctx.operation,
    // The same Accept as the GET: a registry may name a different document for other media types.
    headers: { accept: MANIFEST_ACCEPT },
    signal: ctx.signal,
  });
  if (res.statusCode === 403) throw await responseError(ctx.operation, res);
  await res.body.dump();
  const header = firstHeader(res.headers['docker-content-digest']);
  if (res.statusCode === 200 && header !== undefined && isDigest(header)) return header;
  // No digest, or a registry that does not serve HEAD (405, 501, a 404 of its own): the GET answers, or fails for real.
  return (await fetchManifestFromEndpoint(ctx, ref)).digest;
}

/** fetchManifestFromEndpoint fetches the document a reference names, without choosing a platform. */
export function fetchManifestFromEndpoint(ctx: ResolveContext, ref: Reference): Promise<FetchedManifest> {
  return fetchManifest(ctx, ref, ref.digest ?? ref.tag ?? 'latest', ref.digest);
}

async function fetchManifest(ctx: ResolveContext, ref: Reference, selector: string, expected: Digest | undefined): Promise<FetchedManifest> {
  const res = await ctx.transport.send({
    method: 'GET',
    endpoint: ctx.endpoint,
    credentialsHost: ctx.credentialsHost,
    url: `/v2/${ref.repository}/manifests/${selector}`,
    scope: pullScope(ref.repository),
    operation: ctx.operation,
    headers: { accept: MANIFEST_ACCEPT },
    signal: ctx.signal,
  });
  if (res.statusCode !== 200) throw await responseError(ctx.operation, res);
  const bytes = await readBytes(res, MAX_MANIFEST_SIZE);
  const digest = digestOf(bytes);
  const header = firstHeader(res.headers['docker-content-digest']);
  const pinned = expected ?? (header !== undefined && header.startsWith('sha256:') ? header : undefined);
  if (pinned !== undefined && pinned !== digest) {
    throw new RegistryError(`${ctx.operation.action} "${ctx.operation.ref}": manifest digest mismatch (expected ${pinned}, got ${digest})`, {
      ref: ctx.operation.ref,
    });
  }
  const contentType = firstHeader(res.headers['content-type'])?.split(';')[0]?.trim();
  return { bytes, digest, mediaType: mediaTypeOf(bytes, contentType) };
}

function mediaTypeOf(bytes: Uint8Array, contentType: string | undefined): string {
  if (contentType !== undefined && (INDEX_TYPES.has(contentType) || MANIFEST_TYPES.has(contentType))) return contentType;
  // Some registries answer application/json: fall back to the document's own mediaType, then its shape.
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    if (err instanceof SyntaxError) return contentType ?? 'unknown';
    throw err;
  }
  if (!isRecord(doc)) return contentType ?? 'unknown';
  if (typeof doc['mediaType'] === 'string') return doc['mediaType'];
  if (Array.isArray(doc['manifests'])) return MEDIA_TYPES.ociIndex;
  if (isRecord(doc['config'])) return MEDIA_TYPES.ociManifest;
  return contentType ?? 'unknown';
}

async function fetchConfig(ctx: ResolveContext, ref: Reference, descriptor: Descriptor): Promise<ImageConfig> {
  const res = await ctx.transport.send({
    method: 'GET',
    endpoint: ctx.endpoint,
    credentialsHost: ctx.credentialsHost,
    url: `/v2/${ref.repository}/blobs/${descriptor.digest}`,
    scope: pullScope(ref.repository),
    operation: ctx.operation,
    signal: ctx.signal,
  });
  if (res.statusCode !== 200) throw await responseError(ctx.operation, res);
  const bytes = await readBytes(res, MAX_CONFIG_SIZE);
  const digest = digestOf(bytes);
  if (digest !== descriptor.digest || bytes.length !== descriptor.size) {
    throw new RegistryError(
      `${ctx.operation.action} "${ctx.operation.ref}": config digest mismatch (expected ${descriptor.digest}, got ${digest})`,
      { ref: ctx.operation.ref },
    );
  }
  return decodeImageConfig(parseJson(ctx, bytes, 'image config'), ctx.operation);
}

function parseJson(ctx: ResolveContext, bytes: Uint8Array, what: string): unknown {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new RegistryError(`${ctx.operation.action} "${ctx.operation.ref}": ${what} is not valid JSON`, { ref: ctx.operation.ref, cause: err });
  }
  if (!isRecord(doc)) throw malformed(ctx, `${what} is not a JSON object`);
  return doc;
}

function malformed(ctx: ResolveContext, detail: string): RegistryError {
  return new RegistryError(`${ctx.operation.action} "${ctx.operation.ref}": ${detail}`, { ref: ctx.operation.ref });
}
