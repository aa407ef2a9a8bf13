import { createHash } from 'node:crypto';
import type { FoundPackage, PackageKind } from './package.js';
import type { PackageScan } from './scan.js';

/** SPDX_PREDICATE_TYPE is the in-toto predicate type of an SPDX document, as BuildKit's SBOM attestations use. */
export const SPDX_PREDICATE_TYPE = 'https://spdx.dev/Document';

/** SpdxOptions describe the image an SBOM is about and who made it. */
export interface SpdxOptions {
  /** The image's name (its first reference) or, without one, its manifest digest. */
  readonly imageName: string;
  /** Digest of the image manifest: the document's namespace is derived from it, so the same image gets the same one. */
  readonly imageDigest: string;
  /** Package URL of the image, when it has a name. */
  readonly imagePurl?: string;
  /** Creation time, RFC 3339 without fractional seconds (clamped by SOURCE_DATE_EPOCH by the caller). */
  readonly created: string;
  /** The tool that made the document, `tbuild-VERSION`. */
  readonly tool: string;
}

/** SpdxDocument is an SPDX 2.3 document in its JSON form. */
export interface SpdxDocument {
  readonly spdxVersion: 'SPDX-2.3';
  readonly dataLicense: 'CC0-1.0';
  readonly SPDXID: 'SPDXRef-DOCUMENT';
  readonly name: string;
  readonly documentNamespace: string;
  readonly creationInfo: { readonly created: string; readonly creators: readonly string[] };
  readonly packages: readonly Record<string, unknown>[];
  readonly relationships: readonly { readonly spdxElementId: string; readonly relationshipType: string; readonly relatedSpdxElement: string }[];
}

const SOURCE_INFO: Record<PackageKind, string> = {
  deb: 'acquired package info from DPKG DB',
  apk: 'acquired package info from APK DB',
  python: 'acquired package info from installed python package manifest file',
  npm: 'acquired package info from installed node module manifest file',
  go: 'acquired package info from go module information',
};

// A license field that is already an SPDX expression (MIT, GPL-2.0-or-later, Apache-2.0 OR MIT …).
const SPDX_EXPRESSION = /^\(?[A-Za-z0-9.+-]+(?:\s+(?:AND|OR|WITH)\s+\(?[A-Za-z0-9.+-]+\)?)*\)?$/;
const ROOT_ID = 'SPDXRef-DocumentRoot-Image';

/** spdxId makes an element id (letters, digits, `.` and `-` only) unique by a digest of the package's identity. */
function spdxId(p: FoundPackage): string {
  const hash = createHash('sha256').update(`${p.purl}\0${p.foundIn}`).digest('hex').slice(0, 16);
  return `SPDXRef-Package-${p.kind}-${p.name.replace(/[^A-Za-z0-9.-]/g, '-')}-${hash}`;
}

/** supplierOf writes a maintainer `Name <mail>` as SPDX's `Person: Name (mail)`. */
function supplierOf(text: string | undefined): string {
  if (text === undefined || text.trim() === '') return 'NOASSERTION';
  return `Person: ${text.trim().replace(/<([^>]*)>/, '($1)')}`;
}

function spdxPackage(p: FoundPackage): Record<string, unknown> {
  const declared = p.license !== undefined && SPDX_EXPRESSION.test(p.license.trim()) ? p.license.trim() : undefined;
  return {
    SPDXID: spdxId(p),
    name: p.name,
    versionInfo: p.version,
    supplier: supplierOf(p.supplier),
    downloadLocation: 'NOASSERTION',
    filesAnalyzed: false,
    ...(p.homepage === undefined ? {} : { homepage: p.homepage }),
    sourceInfo: `${SOURCE_INFO[p.kind]}: ${p.foundIn}`,
    licenseConcluded: 'NOASSERTION',
    licenseDeclared: declared ?? 'NOASSERTION',
    ...(p.license !== undefined && declared === undefined ? { licenseComments: p.license } : {}),
    copyrightText: 'NOASSERTION',
    ...(p.summary === undefined ? {} : { summary: p.summary }),
    ...(p.sourcePackage === undefined ? {} : { comment: `source package: ${p.sourcePackage}` }),
    externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: p.purl }],
  };
}

/**
 * spdxDocument describes an image as SPDX 2.3: one package for the image itself (the document describes it) that
 * contains every package its databases list, each with its version, package URL and where it was found.
 */
export function spdxDocument(scan: PackageScan, options: SpdxOptions): SpdxDocument {
  const root: Record<string, unknown> = {
    SPDXID: ROOT_ID,
    name: options.imageName,
    versionInfo: options.imageDigest,
    supplier: 'NOASSERTION',
    downloadLocation: 'NOASSERTION',
    filesAnalyzed: false,
    licenseConcluded: 'NOASSERTION',
    licenseDeclared: 'NOASSERTION',
    copyrightText: 'NOASSERTION',
    primaryPackagePurpose: 'CONTAINER',
    ...(options.imagePurl === undefined ? {} : { externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: options.imagePurl }] }),
  };
  const packages = scan.packages.map(spdxPackage);
  return {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: options.imageName,
    documentNamespace: `https://spdx.org/spdxdocs/tbuild/${options.imageDigest.replace(/^sha256:/, '')}`,
    creationInfo: { created: options.created, creators: [`Tool: ${options.tool}`] },
    packages: [root, ...packages],
    relationships: [
      { spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: ROOT_ID },
      ...packages.map((p) => ({ spdxElementId: ROOT_ID, relationshipType: 'CONTAINS', relatedSpdxElement: String(p['SPDXID']) })),
    ],
  };
}
