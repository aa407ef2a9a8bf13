/** sbom reads the package databases of an image's filesystem and describes them as an SPDX document. */
export { parseApkInstalled, APK_INSTALLED } from './apk.js';
export { parseDpkgStatus, DPKG_STATUS, DPKG_STATUS_DIR } from './dpkg.js';
export { goModulePackages, parseGoBuildInfo, readGoBuildInfo, isGoBinaryCandidate } from './go.js';
export { parseNpmLockfile, parseNpmPackageJson, npmPackageUrl, isNodeModulePackageJson, isPackageLock } from './npm.js';
export { parseOsRelease, parseStanzas, distroQualifier, type Distro, type FoundPackage, type PackageKind } from './package.js';
export { parsePythonMetadata, normalizePythonName, isPythonMetadata } from './python.js';
export { scanPackages, type PackageScan } from './scan.js';
export { spdxDocument, SPDX_PREDICATE_TYPE, type SpdxDocument, type SpdxOptions } from './spdx.js';
