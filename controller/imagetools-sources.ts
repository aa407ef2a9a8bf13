import { isDigest, type Digest } from '../base/digest.js';
import { UsageError, type TbuildError } from '../base/errors.js';
import { formatPlatform, type Platform } from '../base/oci.js';
import { normalizePlatform } from '../base/platform.js';
import type { Reference } from '../registry/index.js';
import { formatReference } from '../registry/index.js';
import { parseImageName } from './imagetools-registry.js';

/** IndexEntry is one descriptor of an index being made, with the fields of an image-spec Descriptor. */
export interface IndexEntry {
  mediaType: string;
  digest: Digest;
  size: number;
  urls?: readonly string[];
  annotations?: Record<string, string>;
  data?: string;
  platform?: Platform;
  artifactType?: string;
}

/** IndexSource is one source of `imagetools create`: a reference, a digest or a descriptor, and what is known of it. */
export interface IndexSource {
  /** What the user wrote, for messages. */
  readonly input: string;
  /** Where the source is: from a reference, or the repository it is inferred to be in. */
  ref: Reference | undefined;
  /** What the user said of it (a digest, a descriptor's fields). */
  readonly given: Partial<IndexEntry>;
}

/** IndexAnnotation is one `--annotation TYPE[PLATFORM]:KEY=VALUE` of `imagetools create`. */
export interface IndexAnnotation {
  readonly type: 'index' | 'manifest-descriptor';
  readonly platform: Platform | undefined;
  readonly key: string;
  readonly value: string;
}

const DIGEST_PREFIX = 'sha256';

/** parseIndexSource reads a source as buildx does: a digest, else a reference, else a descriptor's JSON. */
export function parseIndexSource(input: string): IndexSource {
  const invalid = (detail: string, cause?: unknown): UsageError =>
    new UsageError(`Cannot parse source "${input}": ${detail}`, { hint: 'a source is a reference, a digest or the JSON of an OCI descriptor', cause });
  if (isDigest(input)) return { input, ref: undefined, given: { digest: input } };
  if (input.startsWith(DIGEST_PREFIX)) throw invalid('invalid digest: expected sha256:<64 hex digits>');
  if (!input.trimStart().startsWith('{')) {
    try {
      return { input, ref: parseImageName(input), given: {} };
    } catch (err) {
      throw invalid(err instanceof Error ? err.message : String(err), err);
    }
  }
  let doc: unknown;
  try {
    doc = JSON.parse(input);
  } catch (err) {
    throw invalid('not valid JSON', err);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw invalid('expected a JSON object');
  return { input, ref: undefined, given: descriptorFields(doc, invalid) };
}

/**
 * descriptorFields reads the image-spec Descriptor fields of a JSON object (others are dropped, as Go's
 * unmarshalling drops them); `invalid` makes the error for a field of the wrong shape.
 */
export function descriptorFields(doc: object, invalid: (detail: string) => TbuildError): Partial<IndexEntry> & { digest: Digest } {
  const d = new Map(Object.entries(doc));
  const schemaVersion = d.get('schemaVersion');
  if (schemaVersion !== undefined && schemaVersion !== 0) {
    throw invalid(`expected an OCI content descriptor, got a manifest or index (schemaVersion ${String(schemaVersion)})`);
  }
  const digest = d.get('digest');
  if (digest === undefined || digest === '') throw invalid('invalid descriptor: digest is required');
  if (typeof digest !== 'string' || !isDigest(digest)) throw invalid(`invalid descriptor digest "${String(digest)}"`);
  const text = (k: string): string | undefined => {
    const v = d.get(k);
    if (v !== undefined && typeof v !== 'string') throw invalid(`descriptor field "${k}" must be a string`);
    return v === '' ? undefined : v;
  };
  const size = d.get('size');
  if (size !== undefined && (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)) throw invalid('descriptor field "size" must be a byte count');
  const annotations = d.get('annotations');
  const platform = d.get('platform');
  const urls = d.get('urls');
  const out: Partial<IndexEntry> & { digest: Digest } = { digest };
  const mediaType = text('mediaType');
  const data = text('data');
  const artifactType = text('artifactType');
  if (mediaType !== undefined) out.mediaType = mediaType;
  if (typeof size === 'number' && size > 0) out.size = size;
  if (data !== undefined) out.data = data;
  if (artifactType !== undefined) out.artifactType = artifactType;
  if (Array.isArray(urls)) out.urls = urls.filter((u): u is string => typeof u === 'string');
  if (annotations !== undefined) out.annotations = stringRecord(annotations, () => invalid('descriptor field "annotations" must map strings to strings'));
  if (platform !== undefined) out.platform = platformField(platform, () => invalid('descriptor field "platform" must be an object with "os" and "architecture"'));
  return out;
}

function stringRecord(value: unknown, fail: () => TbuildError): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fail();
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw fail();
    out[k] = v;
  }
  return out;
}

function platformField(value: unknown, fail: () => TbuildError): Platform {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fail();
  const p = new Map(Object.entries(value));
  const field = (k: string): string => {
    const v = p.get(k) ?? '';
    if (typeof v !== 'string') throw fail();
    return v;
  };
  const features = p.get('os.features');
  if (features !== undefined && (!Array.isArray(features) || !features.every((f) => typeof f === 'string'))) throw fail();
  return {
    os: field('os'),
    architecture: field('architecture'),
    ...(field('variant') === '' ? {} : { variant: field('variant') }),
    ...(field('os.version') === '' ? {} : { 'os.version': field('os.version') }),
    ...(features === undefined || features.length === 0 ? {} : { 'os.features': features }),
  };
}

const ANNOTATION_TYPE = /^([a-z-]+)(?:\[([A-Za-z0-9_/-]+)\])?$/;
const PLATFORM_COMPONENT = /^[A-Za-z0-9_.-]+$/;

/**
 * parseIndexAnnotations reads `--annotation` values as buildx does for `imagetools create`: `index:KEY=VALUE` annotates
 * the index, `manifest-descriptor[PLATFORM]:KEY=VALUE` its entries (of that platform). Other types are refused, as
 * buildx refuses them when it combines (an untyped key too: imagetools cannot annotate manifests).
 */
export function parseIndexAnnotations(list: readonly string[]): IndexAnnotation[] {
  const out: IndexAnnotation[] = [];
  for (const item of list) {
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq === -1) throw new UsageError(`Cannot use annotation "${item}": expected TYPE:KEY=VALUE`);
    const [name, value] = [item.slice(0, eq), item.slice(eq + 1)];
    const colon = name.indexOf(':');
    if (colon === -1) {
      throw new UsageError(`Cannot use annotation "${item}": imagetools create annotates the index or its entries only`, {
        hint: `write "index:${name}=${value}" for the index, or "manifest-descriptor:${name}=${value}" for its entries`,
      });
    }
    const key = name.slice(colon + 1);
    for (const typeAndPlatform of name.slice(0, colon).split(',')) out.push(annotation(item, typeAndPlatform, key, value));
  }
  return out;
}

function annotation(item: string, typeAndPlatform: string, key: string, value: string): IndexAnnotation {
  const m = ANNOTATION_TYPE.exec(typeAndPlatform);
  if (m === null) throw new UsageError(`Cannot use annotation "${item}": invalid annotation type "${typeAndPlatform}", expected type and optional platform in square brackets`);
  const type = m[1] ?? '';
  const platform = m[2] === undefined ? undefined : parseAnnotationPlatform(item, m[2]);
  switch (type) {
    case 'index':
    case 'manifest-descriptor':
      return { type, platform, key, value };
    case 'manifest':
      throw new UsageError(`Cannot use annotation "${item}": "manifest" annotations are not supported by imagetools create (it does not rewrite manifests)`);
    case 'index-descriptor':
      throw new UsageError(`Cannot use annotation "${item}": "index-descriptor" annotations are invalid while creating an image`);
    default:
      throw new UsageError(`Cannot use annotation "${item}": unknown annotation type "${type}"`, { hint: 'imagetools create takes "index" and "manifest-descriptor" annotations' });
  }
}

function parseAnnotationPlatform(item: string, text: string): Platform {
  const [os, architecture, variant, extra] = text.toLowerCase().split('/');
  if (os === undefined || architecture === undefined || extra !== undefined || !text.split('/').every((c) => PLATFORM_COMPONENT.test(c))) {
    throw new UsageError(`Cannot use annotation "${item}": invalid platform "${text}", expected os/arch[/variant]`);
  }
  return normalizePlatform(variant === undefined ? { os, architecture } : { os, architecture, variant });
}

/**
 * assignRepositories gives every digest or descriptor source the repository it is in, as buildx infers it: the one
 * repository the tags and sources name, else the first tag's; it refuses when they name several.
 */
export function assignRepositories(tags: readonly Reference[], sources: readonly IndexSource[]): void {
  const repos = new Set<string>();
  for (const t of tags) repos.add(`${t.registry}/${t.repository}`);
  for (const s of sources) if (s.ref !== undefined) repos.add(`${s.ref.registry}/${s.ref.repository}`);
  if (repos.size === 0) {
    throw new UsageError('Cannot create an index: no repository is named', { hint: 'name one with --tag, or give a source as a reference' });
  }
  const defaultRepo = repos.size === 1 ? (sources.find((s) => s.ref !== undefined)?.ref ?? tags[0]) : undefined;
  for (const s of sources) {
    if (s.ref !== undefined) continue;
    if (defaultRepo === undefined) {
      throw new UsageError(`Cannot infer the repository of source "${s.input}": the tags and sources name several repositories`, {
        hint: 'give the source as REPOSITORY@DIGEST',
      });
    }
    s.ref = { registry: defaultRepo.registry, repository: defaultRepo.repository, ...(defaultRepo.tag === undefined ? {} : { tag: defaultRepo.tag }) };
  }
}
