import { resolve } from 'node:path';
import { UsageError } from '../base/errors.js';
import type { CacheExportSpec, CacheImportSpec, LayerCompression } from '../controller/index.js';
import { parseBool, parseCsvOptions } from './output-spec.js';

const COMPRESSIONS: readonly LayerCompression[] = ['gzip', 'zstd', 'uncompressed'];

/** UNSUPPORTED_BACKENDS are BuildKit cache backends tbuild has no client for: naming one fails before the build. */
const UNSUPPORTED_BACKENDS = new Set(['gha', 's3', 'azblob']);

/** refuseBackend fails for a cache type tbuild does not implement, naming the ones it does. */
function refuseBackend(flag: string, type: string, expected: string): never {
  if (UNSUPPORTED_BACKENDS.has(type)) {
    throw new UsageError(`Cannot use ${flag} type=${type}: tbuild does not support the ${type} cache backend`, {
      hint: `use type=registry,ref=REF (a registry cache) or type=local (a folder)${flag === '--cache-to' ? ', or type=inline (the cache in the image)' : ''}`,
    });
  }
  throw new UsageError(`Cannot use ${flag} type=${type}: expected ${expected}`);
}

/** onlyAttributes refuses an attribute tbuild does not implement for a cache type, naming it. */
function onlyAttributes(attrs: ReadonlyMap<string, string>, known: readonly string[], what: string): void {
  for (const key of attrs.keys()) {
    if (key !== 'type' && !known.includes(key)) throw new UsageError(`Cannot use ${what}: attribute "${key}" is not supported`, { hint: `supported: ${known.join(', ') || 'none'}` });
  }
}

/** parseCacheFrom reads one `--cache-from` (`type=registry,ref=R`, `type=local,src=DIR` or a bare reference). */
export function parseCacheFrom(value: string, cwd: string): CacheImportSpec {
  if (!value.includes('=')) return { type: 'registry', ref: value };
  const attrs = parseCsvOptions(value);
  const type = attrs.get('type') ?? 'registry';
  switch (type) {
    case 'registry':
      onlyAttributes(attrs, ['ref'], '--cache-from type=registry');
      return { type, ref: required(attrs, 'ref', '--cache-from type=registry') };
    case 'local':
      onlyAttributes(attrs, ['src'], '--cache-from type=local');
      return { type, src: resolve(cwd, required(attrs, 'src', '--cache-from type=local')) };
    default:
      return refuseBackend('--cache-from', type, 'registry or local');
  }
}

/**
 * parseCacheTo reads one `--cache-to` (`type=registry,ref=R`, `type=local,dest=DIR` or `type=inline`), with BuildKit's
 * options and defaults: mode=min, compression=gzip, oci-mediatypes=true, image-manifest=true (false without OCI media
 * types, which an image manifest needs), ignore-error=false.
 */
export function parseCacheTo(value: string, cwd: string): CacheExportSpec {
  const attrs = value.includes('=') ? parseCsvOptions(value) : new Map([['ref', value]]);
  const type = attrs.get('type') ?? (value.includes('=') ? undefined : 'registry');
  if (type === 'inline') {
    onlyAttributes(attrs, ['mode'], '--cache-to type=inline');
    // The inline cache holds the image's own records only, as BuildKit's does.
    if ((attrs.get('mode') ?? 'min') !== 'min') throw new UsageError('Cannot use --cache-to type=inline with mode=max: an inline cache holds the records of the image\'s own layers only', { hint: 'use type=registry,ref=REF,mode=max' });
    return { type };
  }
  if (type !== 'registry' && type !== 'local') return refuseBackend('--cache-to', type ?? '', 'registry, local or inline');
  onlyAttributes(attrs, [type === 'registry' ? 'ref' : 'dest', 'mode', 'compression', 'oci-mediatypes', 'image-manifest', 'ignore-error'], `--cache-to type=${type}`);
  const mode = attrs.get('mode') ?? 'min';
  if (mode !== 'min' && mode !== 'max') throw new UsageError(`Cannot use --cache-to mode=${mode}: expected min or max`);
  const compression = attrs.get('compression') ?? 'gzip';
  const c = COMPRESSIONS.find((x) => x === compression);
  if (c === undefined) throw new UsageError(`Cannot use --cache-to compression=${compression}: expected ${COMPRESSIONS.join(', ')}`);
  const ociMediaTypes = parseBool(attrs.get('oci-mediatypes') ?? 'true', '--cache-to oci-mediatypes');
  const imageManifest = parseBool(attrs.get('image-manifest') ?? String(ociMediaTypes), '--cache-to image-manifest');
  if (imageManifest && !ociMediaTypes) {
    throw new UsageError('Cannot use --cache-to image-manifest=true with oci-mediatypes=false: an image manifest cache needs OCI media types');
  }
  const ignoreError = parseBool(attrs.get('ignore-error') ?? 'false', '--cache-to ignore-error');
  const target = type === 'registry' ? required(attrs, 'ref', '--cache-to type=registry') : resolve(cwd, required(attrs, 'dest', '--cache-to type=local'));
  return { type, target, mode, compression: c, imageManifest, ociMediaTypes, ignoreError };
}

function required(attrs: Map<string, string>, name: string, what: string): string {
  const v = attrs.get(name);
  if (v === undefined || v === '') throw new UsageError(`Cannot use ${what} without ${name}=`);
  return v;
}
