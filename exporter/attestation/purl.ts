import { formatPlatform, type Platform } from '../../base/oci.js';
import { familiarName, parseReference } from '../../registry/index.js';

/** PackageUrl is a package URL (purl, https://github.com/package-url/purl-spec) in parts. */
export interface PackageUrl {
  readonly type: string;
  readonly namespace?: string;
  readonly name: string;
  readonly version?: string;
  /** Qualifiers in the order they are written; empty values are left out. */
  readonly qualifiers?: readonly (readonly [string, string])[];
}

// Bytes Go's url package never escapes.
const UNRESERVED = /[A-Za-z0-9\-_.~]/;
// Reserved bytes a path segment keeps as they are (url.PathEscape).
const PATH_KEEPS = new Set(['$', '&', '+', ':', '=', '@']);

function escapeWith(text: string, keeps: (c: string) => boolean, space: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (byte < 0x80 && (UNRESERVED.test(c) || keeps(c))) out += c;
    else if (c === ' ') out += space;
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** queryEscape escapes text as Go's url.QueryEscape does (a space becomes `+`). */
export function queryEscape(text: string): string {
  return escapeWith(text, () => false, '+');
}

/** pathEscape escapes text as Go's url.PathEscape does. */
export function pathEscape(text: string): string {
  return escapeWith(text, (c) => PATH_KEEPS.has(c), '%20');
}

/**
 * formatPackageUrl writes a purl the way BuildKit's packageurl-go does: namespace segments and the name
 * query-escaped, the version and qualifier values path-escaped, qualifiers in the order given.
 */
export function formatPackageUrl(p: PackageUrl): string {
  let out = `pkg:${p.type}/`;
  if (p.namespace !== undefined && p.namespace !== '') out += `${p.namespace.split('/').map(queryEscape).join('/')}/`;
  out += queryEscape(p.name);
  if (p.version !== undefined && p.version !== '') out += `@${pathEscape(p.version)}`;
  const qualifiers = (p.qualifiers ?? []).filter(([, v]) => v !== '');
  if (qualifiers.length > 0) out += `?${qualifiers.map(([k, v]) => `${k}=${pathEscape(v)}`).join('&')}`;
  return out;
}

/**
 * imagePackageUrl names an image reference as a purl, as BuildKit names base images and attestation subjects:
 * `pkg:docker/NAMESPACE/NAME@TAG?digest=…&platform=os%2Farch` with the familiar name (`busybox`, `127.0.0.1:5000/team/app`).
 */
export function imagePackageUrl(ref: string, platform?: Platform, type: 'docker' | 'oci' = 'docker'): string {
  const parsed = parseReference(ref);
  const name = familiarName(parsed);
  const slash = name.lastIndexOf('/');
  return formatPackageUrl({
    type,
    ...(slash < 0 ? {} : { namespace: name.slice(0, slash) }),
    name: name.slice(slash + 1),
    ...(parsed.tag === undefined ? {} : { version: parsed.tag }),
    qualifiers: [
      ['digest', parsed.digest ?? ''],
      ['platform', platform === undefined ? '' : formatPlatform(platform)],
    ],
  });
}
