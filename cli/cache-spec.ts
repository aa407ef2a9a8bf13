import { resolve } from 'node:path';
import { UsageError } from '../base/errors.js';
import type { CacheExportSpec, CacheImportSpec, LayerCompression } from '../controller/index.js';
import { parseBool, parseCsvOptions } from './output-spec.js';

const COMPRESSIONS: readonly LayerCompression[] = ['gzip', 'zstd', 'uncompressed'];

/** parseCacheFrom reads one `--cache-from` (`type=registry,ref=R`, `type=local,src=DIR` or a bare reference). */
export function parseCacheFrom(value: string, cwd: string): CacheImportSpec {
  if (!value.includes('=')) return { type: 'registry', ref: value };
  const attrs = parseCsvOptions(value);
  const type = attrs.get('type') ?? 'registry';
  switch (type) {
    case 'registry':
      return { type, ref: required(attrs, 'ref', '--cache-from type=registry') };
    case 'local':
      return { type, src: resolve(cwd, required(attrs, 'src', '--cache-from type=local')) };
    default:
      throw new UsageError(`Cannot use --cache-from type=${type}: expected registry or local`);
  }
}

/**
 * parseCacheTo reads one `--cache-to` (`type=registry,ref=R`, `type=local,dest=DIR` or `type=inline`), with BuildKit's
 * options and defaults: mode=min, compression=gzip, oci-mediatypes=true, image-manifest=true (false without OCI media
 * types, which an image manifest needs), ignore-error=false.
 */
export function parseCacheTo(value: string, cwd: string): CacheExportSpec {
  const attrs = parseCsvOptions(value);
  const type = attrs.get('type') ?? (value.includes('=') ? undefined : 'registry');
  if (!value.includes('=')) attrs.set('ref', value);
  if (type === 'inline') return { type };
  if (type !== 'registry' && type !== 'local') throw new UsageError(`Cannot use --cache-to type=${type ?? ''}: expected registry, local or inline`);
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
