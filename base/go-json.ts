/**
 * Go's encoding/json output, for documents tbuild prints or pushes where Docker's tools print or push the same bytes
 * (buildx's `imagetools create` index, `imagetools inspect --format '{{json …}}'`): MarshalIndent's layout, maps in
 * sorted key order, and `<`, `>`, `&`, U+2028 and U+2029 escaped inside strings.
 */

/** GoJsonValue is what encodeGoJson writes: a `Map` is a Go map (keys sorted), a plain object a Go struct (field order kept). */
export type GoJsonValue =
  | string
  | number
  | boolean
  | null
  | readonly GoJsonValue[]
  | ReadonlyMap<string, GoJsonValue>
  | { readonly [field: string]: GoJsonValue | undefined };

const HTML_UNSAFE = /[<>&\u2028\u2029]/g;

function encodeString(s: string): string {
  return JSON.stringify(s).replace(HTML_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** goMap turns a record into a Go map: encodeGoJson writes its keys in byte order, as Go sorts map keys. */
export function goMap<V extends GoJsonValue>(record: Readonly<Record<string, V>>): ReadonlyMap<string, V> {
  return new Map(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * encodeGoJson writes a value as Go's json.MarshalIndent(v, "", indent) does (json.Marshal with indent ""). Object
 * fields whose value is undefined are left out, as Go leaves out empty `omitempty` fields.
 */
export function encodeGoJson(value: GoJsonValue, indent = ''): string {
  return encode(value, indent, '');
}

function encode(value: GoJsonValue, indent: string, prefix: string): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return encodeString(value);
  if (typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  const inner = prefix + indent;
  const open = indent === '' ? '' : `\n${inner}`;
  const close = indent === '' ? '' : `\n${prefix}`;
  const sep = indent === '' ? ':' : ': ';
  if (isArray(value)) {
    if (value.length === 0) return '[]';
    return `[${open}${value.map((v) => encode(v, indent, inner)).join(`,${open}`)}${close}]`;
  }
  const entries: [string, GoJsonValue][] = [];
  const source: Iterable<[string, GoJsonValue | undefined]> = value instanceof Map ? value.entries() : Object.entries(value);
  for (const [k, v] of source) if (v !== undefined) entries.push([k, v]);
  if (entries.length === 0) return '{}';
  return `{${open}${entries.map(([k, v]) => `${encodeString(k)}${sep}${encode(v, indent, inner)}`).join(`,${open}`)}${close}}`;
}

function isArray(value: GoJsonValue): value is readonly GoJsonValue[] {
  return Array.isArray(value);
}
