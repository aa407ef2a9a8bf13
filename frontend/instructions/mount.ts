import { splitCsvRecord } from '../../base/csv.js';
import { DockerfileError, type SourceLocation } from '../../base/errors.js';
import { withSuggestion } from './suggest.js';

/** CacheSharingMode is `sharing=` of a cache mount. */
export type CacheSharingMode = 'shared' | 'private' | 'locked';

/** MountOwnerSpec is the mode and owner of a mount target. */
export interface MountOwnerSpec {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

/** RunMount is one parsed `RUN --mount=...` flag; values are already expanded. */
export type RunMount =
  | { readonly type: 'bind'; readonly target: string; readonly source: string; readonly from?: string; readonly readwrite: boolean }
  | ({
      readonly type: 'cache';
      readonly target: string;
      readonly id: string;
      readonly source: string;
      readonly from?: string;
      readonly readonly: boolean;
      readonly sharing: CacheSharingMode;
    } & MountOwnerSpec)
  | { readonly type: 'tmpfs'; readonly target: string; readonly sizeBytes?: number }
  | ({ readonly type: 'secret'; readonly id: string; readonly target: string | null; readonly env?: string; readonly required: boolean } & MountOwnerSpec)
  | ({ readonly type: 'ssh'; readonly id: string; readonly target: string | null; readonly required: boolean } & MountOwnerSpec);

const KEYS = [
  'type', 'target', 'dst', 'destination', 'source', 'src', 'from', 'readonly', 'ro', 'rw', 'readwrite', 'id', 'sharing',
  'mode', 'uid', 'gid', 'size', 'required', 'env',
] as const;
type Key = (typeof KEYS)[number];
const ALLOWED: Readonly<Record<RunMount['type'], readonly Key[]>> = {
  bind: ['target', 'dst', 'destination', 'source', 'src', 'from', 'readonly', 'ro', 'rw', 'readwrite'],
  cache: ['target', 'dst', 'destination', 'source', 'src', 'from', 'readonly', 'ro', 'rw', 'readwrite', 'id', 'sharing', 'mode', 'uid', 'gid'],
  tmpfs: ['target', 'dst', 'destination', 'size'],
  secret: ['target', 'dst', 'destination', 'id', 'required', 'mode', 'uid', 'gid', 'env'],
  ssh: ['target', 'dst', 'destination', 'id', 'required', 'mode', 'uid', 'gid'],
};
const SIZE_UNITS: Readonly<Record<string, number>> = { '': 1, b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3 };

function isKey(k: string): k is Key {
  return KEYS.some((x) => x === k);
}

function isType(t: string): t is RunMount['type'] {
  return t === 'bind' || t === 'cache' || t === 'tmpfs' || t === 'secret' || t === 'ssh';
}

/** splitCsv splits a flag value on commas, honouring double quotes as a CSV reader does, without empty fields. */
function splitCsv(text: string): string[] {
  return splitCsvRecord(text).filter((f) => f.trim() !== '');
}

/** mountLocation points at the `--mount` flag of a RUN line (column 1 when not found). */
export function mountLocation(location: SourceLocation, original: string, raw: string): SourceLocation {
  const at = original.indexOf(`--mount=${raw}`);
  return { ...location, column: at < 0 ? 1 : at + 1 };
}

/**
 * parseMountFlag reads one `--mount` value. `expand` expands variables in each value; errors point at the flag.
 * An ssh mount without target gets `/run/buildkit/ssh_agent.N` from the caller.
 */
export function parseMountFlag(raw: string, location: SourceLocation, expand: (v: string) => string): RunMount {
  const fail = (message: string): DockerfileError => new DockerfileError(message, { location, code: 'DOCKERFILE_SYNTAX' });
  const fields = new Map<Key, string | undefined>();
  for (const field of splitCsv(raw)) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).trim().toLowerCase();
    if (!isKey(key)) throw fail(withSuggestion(`unexpected key '${key}' in '${field}'`, key, KEYS));
    const value = eq < 0 ? undefined : field.slice(eq + 1);
    // As BuildKit: a stage to mount from is named as written; a variable there would hide which stage it is.
    if (key === 'from' && value !== undefined && /\$(?!$)/.test(value)) throw fail("'from' doesn't support variable expansion, define alias stage instead");
    fields.set(key, value === undefined ? undefined : expand(value));
  }
  const type = fields.get('type') ?? 'bind';
  if (!isType(type)) throw fail(withSuggestion(`unsupported mount type "${type}"`, type, Object.keys(ALLOWED), true));
  for (const key of fields.keys()) {
    if (key !== 'type' && !ALLOWED[type].includes(key)) throw fail(`unexpected key '${key}' for mount type "${type}"`);
  }
  const str = (...keys: Key[]): string | undefined => {
    for (const k of keys) {
      if (!fields.has(k)) continue;
      const v = fields.get(k);
      if (v === undefined) throw fail(`missing a value for mount option '${k}'`);
      return v;
    }
    return undefined;
  };
  const bool = (...keys: Key[]): boolean | undefined => {
    for (const k of keys) {
      if (!fields.has(k)) continue;
      const v = (fields.get(k) ?? 'true').toLowerCase();
      if (v === 'true' || v === '1') return true;
      if (v === 'false' || v === '0') return false;
      throw fail(`invalid value for ${k}: ${v}: expected true or false`);
    }
    return undefined;
  };
  const int = (key: Key, base: 8 | 10, fallback: number): number => {
    const v = str(key);
    if (v === undefined) return fallback;
    const pattern = base === 8 ? /^[0-7]+$/ : /^\d+$/;
    if (!pattern.test(v)) throw fail(`invalid value for ${key}: ${v}`);
    return Number.parseInt(v, base);
  };
  const owner = (mode: number): MountOwnerSpec => ({ mode: int('mode', 8, mode), uid: int('uid', 10, 0), gid: int('gid', 10, 0) });
  const target = str('target', 'dst', 'destination');
  const readwrite = bool('rw', 'readwrite');
  const ro = bool('readonly', 'ro');
  const readonly = ro ?? (readwrite === undefined ? undefined : !readwrite);
  const from = str('from');
  const fromField = from === undefined || from === '' ? {} : { from };
  switch (type) {
    case 'bind':
      if (target === undefined || target === '') throw fail('mount type "bind" requires a target (target=PATH)');
      return { type, target, source: str('source', 'src') ?? '', ...fromField, readwrite: readonly === undefined ? false : !readonly };
    case 'cache': {
      if (target === undefined || target === '') throw fail('mount type "cache" requires a target (target=PATH)');
      const sharing = str('sharing') ?? 'shared';
      if (sharing !== 'shared' && sharing !== 'private' && sharing !== 'locked') {
        throw fail(`unsupported sharing value "${sharing}": expected shared, private or locked`);
      }
      const id = str('id');
      return { type, target, id: id === undefined || id === '' ? target : id, source: str('source', 'src') ?? '', ...fromField, readonly: readonly ?? false, sharing, ...owner(0o755) };
    }
    case 'tmpfs': {
      if (target === undefined || target === '') throw fail('mount type "tmpfs" requires a target (target=PATH)');
      const size = str('size');
      return size === undefined ? { type, target } : { type, target, sizeBytes: parseSize(size, fail) };
    }
    case 'secret': {
      const env = str('env');
      const given = str('id');
      const id = given !== undefined && given !== '' ? given : target !== undefined ? (target.split('/').filter((p) => p !== '').at(-1) ?? '') : '';
      if (id === '') throw fail('mount type "secret" requires an id (id=NAME) or a target');
      const file = target ?? (env === undefined ? `/run/secrets/${id}` : null);
      return { type, id, target: file, ...(env === undefined ? {} : { env }), required: bool('required') ?? false, ...owner(0o400) };
    }
    case 'ssh': {
      const id = str('id');
      return { type, id: id === undefined || id === '' ? 'default' : id, target: target ?? null, required: bool('required') ?? false, ...owner(0o600) };
    }
  }
}

function parseSize(text: string, fail: (m: string) => DockerfileError): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = SIZE_UNITS[(m?.[2] ?? '').toLowerCase()];
  if (m === null || unit === undefined) throw fail(`invalid value for size: ${text}`);
  return Math.floor(Number(m[1]) * unit);
}
