/**
 * OCI documents as the Go types of opencontainers/image-spec marshal them (field order, `omitempty`, unknown fields
 * dropped, times in RFC 3339 with nanoseconds), so what tbuild prints or pushes for `imagetools` has the bytes
 * buildx gives for the same input. Input is parsed registry JSON, checked field by field.
 */
import { goMap, type GoJsonValue } from './go-json.js';

type Json = Readonly<Record<string, unknown>>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** Go leaves out an empty string with `omitempty`. */
function optStr(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** Go leaves out an empty slice with `omitempty`. */
function optStrings(value: unknown): string[] | undefined {
  const list = strings(value);
  return list.length === 0 ? undefined : list;
}

/** goStringMap is a `map[string]string` with `omitempty`: undefined (left out) when empty. */
export function goStringMap(value: unknown): ReadonlyMap<string, string> | undefined {
  if (!isRecord(value)) return undefined;
  const entries = Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string');
  return entries.length === 0 ? undefined : goMap(Object.fromEntries(entries));
}

/** A `map[string]struct{}` with `omitempty` (ExposedPorts, Volumes). */
function optSet(value: unknown): ReadonlyMap<string, GoJsonValue> | undefined {
  if (!isRecord(value)) return undefined;
  const keys = Object.keys(value);
  return keys.length === 0 ? undefined : goMap(Object.fromEntries(keys.map((k) => [k, {}])));
}

function int(value: unknown): number {
  return typeof value === 'number' && Number.isInteger(value) ? value : 0;
}

/** goPlatform is an image-spec Platform. */
export function goPlatform(p: unknown): GoJsonValue {
  const v = isRecord(p) ? p : {};
  return {
    architecture: str(v['architecture']),
    os: str(v['os']),
    'os.version': optStr(v['os.version']),
    'os.features': optStrings(v['os.features']),
    variant: optStr(v['variant']),
  };
}

/** goDescriptor is an image-spec Descriptor. */
export function goDescriptor(d: unknown): GoJsonValue {
  const v = isRecord(d) ? d : {};
  return {
    mediaType: str(v['mediaType']),
    digest: str(v['digest']),
    size: int(v['size']),
    urls: optStrings(v['urls']),
    annotations: goStringMap(v['annotations']),
    data: optStr(v['data']),
    platform: isRecord(v['platform']) ? goPlatform(v['platform']) : undefined,
    artifactType: optStr(v['artifactType']),
  };
}

/** goIndex is an image-spec Index (schemaVersion 2). */
export function goIndex(index: { readonly mediaType?: string; readonly manifests: readonly unknown[]; readonly annotations?: unknown }): GoJsonValue {
  return {
    schemaVersion: 2,
    mediaType: optStr(index.mediaType),
    manifests: index.manifests.map(goDescriptor),
    annotations: goStringMap(index.annotations),
  };
}

const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|z|[+-]\d{2}:\d{2})$/;

/** goTime re-renders an RFC 3339 time as Go's time.Time marshals it: nanoseconds without trailing zeros, UTC as "Z". */
export function goTime(value: string): string {
  const m = RFC3339.exec(value);
  if (m === null) return value;
  const fraction = (m[2] ?? '').slice(0, 9).replace(/0+$/, '');
  const zone = m[3] === 'z' || m[3] === '+00:00' ? 'Z' : (m[3] ?? 'Z');
  return `${m[1] ?? ''}${fraction === '' ? '' : `.${fraction}`}${zone}`;
}

function optTime(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? goTime(value) : undefined;
}

function goHistory(h: unknown): GoJsonValue {
  const v = isRecord(h) ? h : {};
  return {
    created: optTime(v['created']),
    created_by: optStr(v['created_by']),
    author: optStr(v['author']),
    comment: optStr(v['comment']),
    empty_layer: v['empty_layer'] === true ? true : undefined,
  };
}

/** goImageConfig is an image-spec ImageConfig: Healthcheck, OnBuild and Shell are Docker's own and not part of it. */
function goImageConfig(c: unknown): GoJsonValue {
  const v = isRecord(c) ? c : {};
  return {
    User: optStr(v['User']),
    ExposedPorts: optSet(v['ExposedPorts']),
    Env: optStrings(v['Env']),
    Entrypoint: optStrings(v['Entrypoint']),
    Cmd: optStrings(v['Cmd']),
    Volumes: optSet(v['Volumes']),
    WorkingDir: optStr(v['WorkingDir']),
    Labels: goStringMap(v['Labels']),
    StopSignal: optStr(v['StopSignal']),
    ArgsEscaped: v['ArgsEscaped'] === true ? true : undefined,
  };
}

/** goImage is an image-spec Image (an image config blob). */
export function goImage(config: unknown): GoJsonValue {
  const v = isRecord(config) ? config : {};
  const rootfs = isRecord(v['rootfs']) ? v['rootfs'] : {};
  const history = Array.isArray(v['history']) ? v['history'] : [];
  return {
    created: optTime(v['created']),
    author: optStr(v['author']),
    architecture: str(v['architecture']),
    os: str(v['os']),
    'os.version': optStr(v['os.version']),
    'os.features': optStrings(v['os.features']),
    variant: optStr(v['variant']),
    // A struct field: Go writes it even when empty.
    config: goImageConfig(v['config']),
    rootfs: { type: str(rootfs['type']), diff_ids: Array.isArray(rootfs['diff_ids']) ? strings(rootfs['diff_ids']) : null },
    history: history.length === 0 ? undefined : history.map(goHistory),
  };
}
