/** PackageKind is the package manager a package was found through. */
export type PackageKind = 'deb' | 'apk' | 'python' | 'npm' | 'go';

/** FoundPackage is one package a package database in the image lists. */
export interface FoundPackage {
  readonly kind: PackageKind;
  readonly name: string;
  readonly version: string;
  /** Package URL naming the package for scanners (pkg:deb/…, pkg:npm/…, pkg:pypi/…). */
  readonly purl: string;
  /** Path of the database or manifest the package was read from, absolute in the image. */
  readonly foundIn: string;
  readonly supplier?: string;
  readonly license?: string;
  readonly homepage?: string;
  readonly summary?: string;
  /** Source package (deb) or origin (apk) the package was built from, when another. */
  readonly sourcePackage?: string;
}

/** Distro is what /etc/os-release says of the image's distribution (used in deb and apk package URLs). */
export interface Distro {
  readonly id: string;
  readonly versionId: string;
}

/** parseOsRelease reads ID and VERSION_ID of an os-release file. */
export function parseOsRelease(text: string): Distro | undefined {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m?.[1] === undefined || m[2] === undefined) continue;
    values.set(m[1], m[2].replace(/^(["'])(.*)\1$/, '$2'));
  }
  const id = values.get('ID');
  return id === undefined ? undefined : { id, versionId: values.get('VERSION_ID') ?? '' };
}

/** distroQualifier is the `distro=` qualifier of a package URL: `debian-12`, `alpine-3.20.0`. */
export function distroQualifier(distro: Distro | undefined): string {
  if (distro === undefined) return '';
  return distro.versionId === '' ? distro.id : `${distro.id}-${distro.versionId}`;
}

/**
 * parseStanzas splits an RFC 822-style database (dpkg status, METADATA headers) into stanzas of fields. A line that
 * starts with a space or tab continues the field before it; a blank line ends a stanza.
 */
export function parseStanzas(text: string): Map<string, string>[] {
  const stanzas: Map<string, string>[] = [];
  let current = new Map<string, string>();
  let last: string | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      if (current.size > 0) stanzas.push(current);
      current = new Map();
      last = undefined;
    } else if ((line.startsWith(' ') || line.startsWith('\t')) && last !== undefined) {
      current.set(last, `${current.get(last) ?? ''}\n${line.slice(1)}`);
    } else {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      last = line.slice(0, colon).trim();
      // A repeated field (Classifier in METADATA) keeps its first value.
      if (!current.has(last)) current.set(last, line.slice(colon + 1).trim());
    }
  }
  if (current.size > 0) stanzas.push(current);
  return stanzas;
}
