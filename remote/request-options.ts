import { UsageError } from '../base/errors.js';
import type { BuildRequest, CacheExportSpec, CacheImportSpec } from '../controller/index.js';
import type { BuildStartMsg, CacheExportMsg, CacheImportMsg } from './messages.js';

/**
 * refuseClientSideOptions stops a remote build that needs something from the client's disk or agent the protocol
 * does not carry (local named contexts, cache folders), rather than dropping it silently.
 */
export function refuseClientSideOptions(request: BuildRequest): void {
  const hint = 'use type=registry: the builder reads and writes registry caches itself, with the registry credentials of the client';
  if ((request.cacheFrom ?? []).some((c) => c.type === 'local')) {
    throw new UsageError('Cannot import --cache-from type=local on a remote builder: the builder cannot read folders of the client', { hint });
  }
  if ((request.cacheTo ?? []).some((c) => c.type === 'local')) {
    throw new UsageError('Cannot export --cache-to type=local on a remote builder: the builder cannot write folders of the client', { hint });
  }
  const unsupported: string[] = [];
  if ((request.buildContexts ?? []).some((c) => c.type === 'local')) unsupported.push('--build-context with a local folder');
  if (unsupported.length > 0) {
    throw new UsageError(`Cannot build on a remote builder with ${unsupported.join(', ')}: not supported by the remote protocol yet`, {
      hint: 'build without --builder for these options',
    });
  }
}

type SessionFieldNames = 'pull' | 'network' | 'allow' | 'imageContexts' | 'urlContexts' | 'check' | 'print' | 'cacheFrom' | 'cacheTo' | 'secretIds' | 'sshIds';

/** sessionFields are the request options sent as they are; secrets travel as ids only. */
export function sessionFields(request: BuildRequest): Pick<BuildStartMsg, SessionFieldNames> {
  return {
    pull: request.pull ?? false,
    network: request.network ?? '',
    allow: request.allow ?? [],
    imageContexts: (request.buildContexts ?? []).flatMap((c) => (c.type === 'image' ? [{ name: c.name, ref: c.ref }] : [])),
    urlContexts: (request.buildContexts ?? []).flatMap((c) => (c.type === 'url' ? [{ name: c.name, url: c.url }] : [])),
    check: request.check ?? false,
    print: request.print ?? '',
    cacheFrom: (request.cacheFrom ?? []).flatMap(cacheImportMsg),
    cacheTo: (request.cacheTo ?? []).flatMap(cacheExportMsg),
    secretIds: [...new Set((request.secrets ?? []).map((s) => s.id))],
    sshIds: [...new Set((request.ssh ?? []).map((s) => s.id))],
  };
}

function cacheImportMsg(spec: CacheImportSpec): CacheImportMsg[] {
  return spec.type === 'registry' ? [{ type: 'registry', ref: spec.ref }] : [];
}

function cacheExportMsg(spec: CacheExportSpec): CacheExportMsg[] {
  if (spec.type === 'inline') return [{ type: 'inline', ref: '', mode: '', compression: '', imageManifest: false, dockerMediaTypes: false, ignoreError: false }];
  if (spec.type === 'local') return [];
  const { target: ref, mode, compression, imageManifest, ignoreError } = spec;
  return [{ type: 'registry', ref, mode, compression, imageManifest, dockerMediaTypes: !spec.ociMediaTypes, ignoreError }];
}

const COMPRESSIONS = ['gzip', 'zstd', 'uncompressed'] as const;

/** cacheOptions turns the cache specs of a BuildStart back into request options the server runs itself. */
export function cacheOptions(start: Pick<BuildStartMsg, 'cacheFrom' | 'cacheTo'>): Pick<BuildRequest, 'cacheFrom' | 'cacheTo'> {
  const cacheFrom = start.cacheFrom.map((c): CacheImportSpec => {
    if (c.type !== 'registry' || c.ref === '') throw new UsageError(`Cannot import cache of type "${c.type}" on the builder: expected registry with a reference`);
    return { type: 'registry', ref: c.ref };
  });
  const cacheTo = start.cacheTo.map((c): CacheExportSpec => {
    if (c.type === 'inline') return { type: 'inline' };
    if (c.type !== 'registry' || c.ref === '') throw new UsageError(`Cannot export cache of type "${c.type}" on the builder: expected registry with a reference, or inline`);
    const mode = c.mode === '' ? 'min' : c.mode;
    if (mode !== 'min' && mode !== 'max') throw new UsageError(`Cannot export cache with mode "${c.mode}": expected min or max`);
    const compression = COMPRESSIONS.find((x) => x === (c.compression === '' ? 'gzip' : c.compression));
    if (compression === undefined) throw new UsageError(`Cannot export cache with compression "${c.compression}": expected ${COMPRESSIONS.join(', ')}`);
    const { imageManifest, ignoreError } = c;
    return { type: 'registry', target: c.ref, mode, compression, imageManifest, ociMediaTypes: !c.dockerMediaTypes, ignoreError };
  });
  return { ...(cacheFrom.length === 0 ? {} : { cacheFrom }), ...(cacheTo.length === 0 ? {} : { cacheTo }) };
}
