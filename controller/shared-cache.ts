import { createHash } from 'node:crypto';
import { canonicalJson } from '../base/canonical-json.js';
import { formatPlatform, hostPlatform } from '../base/oci.js';
import type { SharedCacheSettings } from '../registry/index.js';
import type { BuildRequest, CacheExportSpec, CacheImportSpec } from './request.js';

/** SHARED_CACHE_TAG_HEX is how many hex digits of the project's hash name its tag (128 bits). */
const SHARED_CACHE_TAG_HEX = 32;

/**
 * sharedCacheRef is the reference of a project's cache in the shared repository: a tag made from the project's
 * identity and the platforms it is built for, so that builds of one project on any server share one cache, and two
 * projects (or one project built for other platforms) never replace each other's.
 */
export function sharedCacheRef(settings: Pick<SharedCacheSettings, 'repository'>, project: string, platforms: readonly string[]): string {
  const hash = createHash('sha256').update(canonicalJson({ project, platforms: [...platforms].sort() })).digest('hex');
  return `${settings.repository}:p-${hash.slice(0, SHARED_CACHE_TAG_HEX)}`;
}

/**
 * withSharedCache adds a builder's shared cache to a build request: an import (unless --no-cache) and an export after
 * the build's outputs, whose failure is a warning. The client's own --cache-from and --cache-to stay, first.
 */
export function withSharedCache(request: BuildRequest, project: string, settings: SharedCacheSettings | undefined): BuildRequest {
  if (settings === undefined) return request;
  const targets = request.platforms ?? [request.platform ?? hostPlatform()];
  const ref = sharedCacheRef(settings, project, targets.map(formatPlatform));
  const from = request.cacheFrom ?? [];
  const to = request.cacheTo ?? [];
  const imports: CacheImportSpec[] = request.noCache === true || from.some((c) => c.type === 'registry' && c.ref === ref) ? [] : [{ type: 'registry', ref }];
  const exported: CacheExportSpec = { type: 'registry', target: ref, mode: settings.mode, compression: 'gzip', imageManifest: true, ociMediaTypes: true, ignoreError: true };
  const exports = to.some((c) => c.type === 'registry' && c.target === ref) ? [] : [exported];
  return { ...request, cacheFrom: [...from, ...imports], cacheTo: [...to, ...exports] };
}
