import { isDigest } from './digest.js';
import { RegistryError } from './errors.js';
import type { ImageConfig, ImageIndex, ImageManifest } from './oci.js';

/**
 * DocumentFieldError is a manifest, index or image config whose field has the wrong type or value; field is its path
 * (`manifests[1].platform.os`, `config.Env[0]`). Like Go's json.Unmarshal into image-spec types (what BuildKit and
 * containerd do), unknown fields are ignored and null stands for an absent field.
 */
export class DocumentFieldError extends RegistryError {
  readonly field: string;
  constructor(source: DocumentSource, field: string, expected: string, value: unknown) {
    const text = `${source.what} field ${field}: expected ${expected}, got ${describe(value)}`;
    super(source.ref === undefined ? text : `${source.action ?? 'Cannot read'} "${source.ref}": ${text}`, source.ref === undefined ? {} : { ref: source.ref });
    this.field = field;
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `${typeof value} ${String(value)}`;
}

/** DocumentSource says what a document is and, for errors, which reference and operation it came from. */
export interface DocumentSource {
  readonly what: string;
  readonly ref?: string;
  readonly action?: string;
}

type Obj = Record<string, unknown>;

/** Reader checks one document, naming the path of whatever does not fit. */
class Reader {
  constructor(readonly source: DocumentSource) {}

  fail(path: string, expected: string, value: unknown): never {
    throw new DocumentFieldError(this.source, path === '' ? '(the document)' : path, expected, value);
  }

  object(v: unknown, path: string): Obj {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, 'an object', v);
    return v as Obj;
  }

  /** optional returns the field, undefined for absent or null (as Go leaves a zero value). */
  optional(o: Obj, key: string): unknown {
    const v = o[key];
    return v === null ? undefined : v;
  }

  string(o: Obj, key: string, path: string, required = false): void {
    const v = this.optional(o, key);
    if (v === undefined ? required : typeof v !== 'string') this.fail(join(path, key), 'a string', v);
  }

  boolean(o: Obj, key: string, path: string): void {
    const v = this.optional(o, key);
    if (v !== undefined && typeof v !== 'boolean') this.fail(join(path, key), 'a boolean', v);
  }

  integer(o: Obj, key: string, path: string, min: number): void {
    const v = this.optional(o, key);
    if (v !== undefined && !(typeof v === 'number' && Number.isSafeInteger(v) && v >= min)) {
      this.fail(join(path, key), `a whole number from ${min}`, v);
    }
  }

  array(o: Obj, key: string, path: string, each: (v: unknown, path: string) => void, required = false): void {
    const v = this.optional(o, key);
    if (v === undefined && !required) return;
    if (!Array.isArray(v)) this.fail(join(path, key), 'an array', v);
    v.forEach((item, i) => each(item, `${join(path, key)}[${i}]`));
  }

  strings(o: Obj, key: string, path: string): void {
    this.array(o, key, path, (v, p) => {
      if (typeof v !== 'string') this.fail(p, 'a string', v);
    });
  }

  map(o: Obj, key: string, path: string, value: 'string' | 'object'): void {
    const v = this.optional(o, key);
    if (v === undefined) return;
    const m = this.object(v, join(path, key));
    for (const [k, item] of Object.entries(m)) {
      const ok = value === 'string' ? typeof item === 'string' : item === null || (typeof item === 'object' && !Array.isArray(item));
      if (!ok) this.fail(`${join(path, key)}[${JSON.stringify(k)}]`, value === 'string' ? 'a string' : 'an object', item);
    }
  }

  digest(o: Obj, key: string, path: string): void {
    const v = o[key];
    if (typeof v !== 'string' || !isDigest(v)) this.fail(join(path, key), 'a sha256 digest', v);
  }

  descriptor(v: unknown, path: string): void {
    const d = this.object(v, path);
    this.string(d, 'mediaType', path, true);
    this.digest(d, 'digest', path);
    if (typeof d['size'] !== 'number') this.fail(join(path, 'size'), 'a whole number from 0', d['size']);
    this.integer(d, 'size', path, 0);
    this.map(d, 'annotations', path, 'string');
    this.strings(d, 'urls', path);
    const platform = this.optional(d, 'platform');
    if (platform === undefined) return;
    const p = this.object(platform, join(path, 'platform'));
    for (const key of ['architecture', 'os']) this.string(p, key, join(path, 'platform'), true);
    for (const key of ['variant', 'os.version']) this.string(p, key, join(path, 'platform'));
    this.strings(p, 'os.features', join(path, 'platform'));
  }
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function header(r: Reader, doc: Obj): void {
  r.integer(doc, 'schemaVersion', '', 0);
  r.string(doc, 'mediaType', '');
  r.map(doc, 'annotations', '', 'string');
}

/** decodeImageIndex checks an image index (or Docker manifest list) parsed from JSON. */
export function decodeImageIndex(doc: unknown, from: Omit<DocumentSource, 'what'> = {}): ImageIndex {
  const r = new Reader({ ...from, what: 'image index' });
  const o = r.object(doc, '');
  header(r, o);
  r.array(o, 'manifests', '', (v, p) => r.descriptor(v, p), true);
  return withoutNulls(o) as ImageIndex;
}

/** decodeImageManifest checks an image manifest (OCI or Docker schema 2) parsed from JSON. */
export function decodeImageManifest(doc: unknown, from: Omit<DocumentSource, 'what'> = {}): ImageManifest {
  const r = new Reader({ ...from, what: 'manifest' });
  const o = r.object(doc, '');
  header(r, o);
  r.descriptor(o['config'], 'config');
  r.array(o, 'layers', '', (v, p) => r.descriptor(v, p), true);
  return withoutNulls(o) as ImageManifest;
}

/** decodeImageConfig checks an image config parsed from JSON: the fields tbuild reads, with Go's types. */
export function decodeImageConfig(doc: unknown, from: Omit<DocumentSource, 'what'> = {}): ImageConfig {
  const r = new Reader({ ...from, what: 'image config' });
  const o = r.object(doc, '');
  for (const key of ['architecture', 'os']) r.string(o, key, '', true);
  for (const key of ['created', 'author', 'variant', 'os.version']) r.string(o, key, '');
  r.strings(o, 'os.features', '');
  const rootfs = r.object(o['rootfs'], 'rootfs');
  r.string(rootfs, 'type', 'rootfs', true);
  r.array(
    rootfs,
    'diff_ids',
    'rootfs',
    (v, p) => {
      if (typeof v !== 'string' || !isDigest(v)) r.fail(p, 'a sha256 digest', v);
    },
    true,
  );
  r.array(o, 'history', '', (v, p) => {
    const h = r.object(v, p);
    for (const key of ['created', 'created_by', 'author', 'comment']) r.string(h, key, p);
    r.boolean(h, 'empty_layer', p);
  });
  const config = r.optional(o, 'config');
  if (config !== undefined) containerConfig(r, r.object(config, 'config'));
  return withoutNulls(o) as ImageConfig;
}

function containerConfig(r: Reader, c: Obj): void {
  for (const key of ['User', 'WorkingDir', 'StopSignal']) r.string(c, key, 'config');
  for (const key of ['Env', 'Entrypoint', 'Cmd', 'OnBuild', 'Shell']) r.strings(c, key, 'config');
  for (const key of ['ExposedPorts', 'Volumes']) r.map(c, key, 'config', 'object');
  r.map(c, 'Labels', 'config', 'string');
  r.boolean(c, 'ArgsEscaped', 'config');
  const health = r.optional(c, 'Healthcheck');
  if (health === undefined) return;
  const h = r.object(health, 'config.Healthcheck');
  r.strings(h, 'Test', 'config.Healthcheck');
  for (const key of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval']) r.integer(h, key, 'config.Healthcheck', Number.MIN_SAFE_INTEGER);
  r.integer(h, 'Retries', 'config.Healthcheck', Number.MIN_SAFE_INTEGER);
}

const NULL_IS_A_VALUE: ReadonlySet<string> = new Set(['Entrypoint', 'Cmd', 'OnBuild']);
const MAPS: ReadonlySet<string> = new Set(['ExposedPorts', 'Volumes', 'Labels', 'annotations']);

/**
 * withoutNulls copies a checked document without its null fields, which tbuild's types read as absent (as Go reads
 * them as zero values), except Entrypoint, Cmd and OnBuild, where null is a value (an image that resets them). Map
 * fields (labels, ports, annotations) are kept as they are: their keys are data.
 */
function withoutNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (typeof v !== 'object' || v === null) return v;
  const out: Obj = {};
  for (const [k, item] of Object.entries(v)) {
    if (item === null && !NULL_IS_A_VALUE.has(k)) continue;
    out[k] = MAPS.has(k) ? item : withoutNulls(item);
  }
  return out;
}
