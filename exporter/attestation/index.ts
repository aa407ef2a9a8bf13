/** Build attestations: SLSA provenance and SPDX SBOMs as in-toto statements, attached to images as BuildKit does. */
export { formatPackageUrl, imagePackageUrl, pathEscape, queryEscape, type PackageUrl } from './purl.js';
export * from './sbom/index.js';
