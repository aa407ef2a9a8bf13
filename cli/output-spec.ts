import { splitCsvRecord } from '../base/csv.js';
import { UsageError } from '../base/errors.js';
import type { ImageExportOptions, LayerCompression, OutputSpec } from '../controller/index.js';
import { parseGoBool } from './bool-flags.js';

/** parseCsvOptions splits `k=v,k2=v2` (values may be double-quoted) into pairs. */
export function parseCsvOptions(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const field of splitCsv(text)) {
    const eq = field.indexOf('=');
    if (eq < 0) out.set(field.trim(), '');
    else out.set(field.slice(0, eq).trim(), field.slice(eq + 1));
  }
  return out;
}

/** splitCsv splits an option value into its non-empty fields. */
function splitCsv(text: string): string[] {
  return splitCsvRecord(text).filter((f) => f.length > 0);
}

const COMPRESSIONS: readonly LayerCompression[] = ['gzip', 'zstd', 'uncompressed'];

/** csvValues returns every value of a repeated key (`name=a,name=b`), each split on commas when quoted (`"name=a,b"`). */
function csvValues(text: string, key: string): string[] {
  return splitCsv(text)
    .filter((f) => f.trim().startsWith(`${key}=`))
    .flatMap((f) => f.slice(f.indexOf('=') + 1).split(','))
    .filter((n) => n.length > 0);
}

/** annotationsOf collects `annotation.K=V`, `annotation-manifest.K=V` and `annotation-index.K=V` attributes as buildx does. */
function annotationsOf(attrs: Map<string, string>): NonNullable<ImageExportOptions['annotations']> | undefined {
  const manifest: Record<string, string> = {};
  const index: Record<string, string> = {};
  for (const [key, value] of attrs) {
    const match = /^annotation(-manifest|-index|-manifest-descriptor|-index-descriptor)?(?:\[[^\]]*\])?\.(.+)$/.exec(key);
    if (match === null) continue;
    const [, kind, name] = match;
    if (name === undefined) continue;
    if (kind === undefined || kind === '-manifest') manifest[name] = value;
    else if (kind === '-index') index[name] = value;
    else throw new UsageError(`Cannot use output attribute "${key}": descriptor annotations are not supported`);
  }
  return Object.keys(manifest).length + Object.keys(index).length === 0 ? undefined : { manifest, index };
}

function imageOptions(attrs: Map<string, string>): ImageExportOptions {
  const compression = attrs.get('compression') ?? 'gzip';
  if (!isCompression(compression)) {
    throw new UsageError(`Cannot use compression "${compression}": expected one of ${COMPRESSIONS.join(', ')}`);
  }
  const levelText = attrs.get('compression-level');
  const level = levelText === undefined ? undefined : Number(levelText);
  if (level !== undefined && !Number.isInteger(level)) throw new UsageError(`Cannot use compression-level "${levelText}": expected a whole number`);
  const annotations = annotationsOf(attrs);
  const rewrite = attrs.get('rewrite-timestamp');
  const epoch = attrs.get('source-date-epoch');
  const ociArtifact = attrs.has('oci-artifact') ? parseBool(attrs.get('oci-artifact') ?? '', 'oci-artifact') : undefined;
  const referrers = attrs.has('attestation-referrers') ? parseBool(attrs.get('attestation-referrers') ?? '', 'attestation-referrers') : undefined;
  const ociMediaTypes = attrs.has('oci-mediatypes') ? parseBool(attrs.get('oci-mediatypes') ?? '', 'oci-mediatypes') : undefined;
  if (ociMediaTypes === false && ociArtifact === true) {
    throw new UsageError('Cannot use oci-artifact=true with oci-mediatypes=false: an OCI artifact needs OCI media types');
  }
  if (referrers === true && ociArtifact === false) {
    throw new UsageError('Cannot use attestation-referrers=true with oci-artifact=false: a referrer names its image as its subject, which only the OCI artifact form has');
  }
  return {
    compression,
    ...(level === undefined ? {} : { compressionLevel: level }),
    forceCompression: parseBool(attrs.get('force-compression') ?? 'false', 'force-compression'),
    ...(annotations === undefined ? {} : { annotations }),
    ...(rewrite === undefined ? {} : { rewriteTimestamp: parseBool(rewrite, 'rewrite-timestamp') }),
    ...(epoch === undefined ? {} : { sourceDateEpoch: parseEpoch(epoch) }),
    ...(ociArtifact === undefined ? {} : { ociArtifact }),
    ...(referrers === undefined ? {} : { referrers }),
    ...(ociMediaTypes === false ? { ociMediaTypes } : {}),
  };
}

/** parseEpoch reads a `source-date-epoch` attribute: whole seconds, or empty for no epoch at all (as BuildKit reads it). */
function parseEpoch(value: string): number | null {
  if (value === '') return null;
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`Cannot use source-date-epoch="${value}": expected a whole number of seconds since 1970, or nothing`);
  }
  return Number(value);
}

function isCompression(value: string): value is LayerCompression {
  return COMPRESSIONS.some((c) => c === value);
}

/** parseBool reads a boolean option value as BuildKit does (Go's strconv.ParseBool), empty meaning true. */
export function parseBool(value: string, name: string): boolean {
  const b = value === '' ? true : parseGoBool(value);
  if (b !== undefined) return b;
  throw new UsageError(`Cannot use ${name}="${value}": expected true or false`);
}

/** IMAGE_ATTRIBUTES are the attributes of every image output (image, registry, oci, docker) tbuild implements. */
const IMAGE_ATTRIBUTES = [
  'name',
  'compression',
  'compression-level',
  'force-compression',
  'rewrite-timestamp',
  'source-date-epoch',
  'oci-artifact',
  'attestation-referrers',
  'oci-mediatypes',
];

/** OUTPUT_ATTRIBUTES are the attributes tbuild implements, by output type; annotations go with every image type. */
const OUTPUT_ATTRIBUTES: Readonly<Record<string, readonly string[]>> = {
  image: [...IMAGE_ATTRIBUTES, 'push', 'push-by-digest', 'name-canonical'],
  registry: [...IMAGE_ATTRIBUTES, 'push', 'push-by-digest', 'name-canonical'],
  oci: [...IMAGE_ATTRIBUTES, 'dest', 'tar'],
  docker: [...IMAGE_ATTRIBUTES, 'dest', 'tar'],
  local: ['dest', 'source-date-epoch', 'platform-split'],
  tar: ['dest', 'source-date-epoch', 'platform-split'],
};

/** checkAttributes refuses an output attribute tbuild does not implement for the type, naming it, rather than ignore it. */
function checkAttributes(type: string, attrs: ReadonlyMap<string, string>): void {
  const known = OUTPUT_ATTRIBUTES[type];
  if (known === undefined) return;
  const isImage = type !== 'local' && type !== 'tar';
  for (const key of attrs.keys()) {
    if (key === 'type' || known.includes(key) || (isImage && /^annotation(-[a-z-]+)?(\[[^\]]*\])?\./.test(key))) continue;
    throw new UsageError(`Cannot use --output type=${type}: attribute "${key}" is not supported`, { hint: `type=${type} takes ${known.join(', ')}${isImage ? ', annotation.*' : ''}` });
  }
}

/** parseOutput reads one `--output` value as docker buildx does (CSV, a folder, or `-`). */
export function parseOutput(value: string, tags: readonly string[]): OutputSpec {
  if (value === '-') return { type: 'tar', dest: '-' };
  if (!value.includes('=')) return { type: 'local', dest: value };
  const attrs = parseCsvOptions(value);
  const type = attrs.get('type');
  // As buildx fills in image, oci and docker outputs, -t names replace an output's own name=.
  const names = tags.length > 0 || !attrs.has('name') ? [...tags] : csvValues(value, 'name');
  const dest = attrs.get('dest');
  if (type !== undefined) checkAttributes(type, attrs);
  switch (type) {
    case 'image':
    case 'registry': {
      const byDigest = parseBool(attrs.get('push-by-digest') ?? 'false', 'push-by-digest');
      const canonical = parseBool(attrs.get('name-canonical') ?? 'false', 'name-canonical');
      const push = type === 'registry' || parseBool(attrs.get('push') ?? 'false', 'push');
      return { type: 'image', names, push, image: imageOptions(attrs), ...(byDigest ? { pushByDigest: true } : {}), ...(canonical ? { nameCanonical: true } : {}) };
    }
    case 'docker':
    case 'oci': {
      // As with buildx, a docker output without a destination loads into the Docker Engine.
      if (type === 'docker' && dest === undefined && !attrs.has('tar')) return { type: 'load', names, image: imageOptions(attrs) };
      if (dest === undefined) throw new UsageError(`Cannot use --output type=${type} without dest=FILE (or dest=- for standard output)`);
      const tar = parseBool(attrs.get('tar') ?? 'true', 'tar');
      if (!tar && dest === '-') throw new UsageError(`Cannot use --output type=${type},tar=false with dest=-: the image layout goes into a folder`);
      return { type, dest, names, image: imageOptions(attrs), ...(tar ? {} : { tar: false }) };
    }
    case 'local':
    case 'tar': {
      if (dest === undefined) throw new UsageError(`Cannot use --output type=${type} without dest=PATH`);
      const epoch = attrs.get('source-date-epoch');
      const split = attrs.get('platform-split');
      return {
        type,
        dest,
        ...(epoch === undefined ? {} : { sourceDateEpoch: parseEpoch(epoch) }),
        ...(split === undefined ? {} : { platformSplit: parseBool(split, 'platform-split') }),
      };
    }
    case undefined:
      throw new UsageError(`Cannot parse --output "${value}": missing type=`);
    default:
      throw new UsageError(`Cannot use --output type=${type}: expected image, registry, oci, docker, local or tar`);
  }
}
