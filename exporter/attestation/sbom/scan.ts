import { readFile } from 'node:fs/promises';
import { walkMerged } from '../../merged-walk.js';
import { APK_INSTALLED, parseApkInstalled } from './apk.js';
import { DPKG_STATUS, DPKG_STATUS_DIR, parseDpkgStatus } from './dpkg.js';
import { isGoBinaryCandidate, readGoBuildInfo } from './go.js';
import { isNodeModulePackageJson, isPackageLock, parseNpmLockfile, parseNpmPackageJson } from './npm.js';
import { parseOsRelease, type Distro, type FoundPackage } from './package.js';
import { isPythonMetadata, parsePythonMetadata } from './python.js';

/** PackageScan is what the package databases of an image's filesystem list. */
export interface PackageScan {
  readonly distro: Distro | undefined;
  /** Packages by database, deduplicated by package URL (an installed module wins over a lockfile's entry). */
  readonly packages: readonly FoundPackage[];
}

/** Files larger than this are not package databases worth reading into memory. */
const MAX_DATABASE_BYTES = 64 * 1024 * 1024;
/** Go executables are at least this big (the runtime alone is more); smaller files are not opened. */
const MIN_GO_BINARY_BYTES = 1024 * 1024;
/** Top-level folders that hold no packages in an image (and kernel filesystems in a running one). */
const SKIPPED_ROOTS = new Set(['proc', 'sys', 'dev']);

type Reader = 'dpkg' | 'apk' | 'python' | 'npm-module' | 'npm-lock' | 'go' | 'os-release';

/** readerFor says which reader a path of the image goes to, if any. */
function readerFor(rel: string, isFile: boolean, goCandidate: boolean): Reader | undefined {
  if (rel === 'etc/os-release' || rel === 'usr/lib/os-release') return isFile ? 'os-release' : undefined;
  if (!isFile) return undefined;
  if (rel === DPKG_STATUS) return 'dpkg';
  if (rel.startsWith(`${DPKG_STATUS_DIR}/`) && !rel.endsWith('.md5sums')) return 'dpkg';
  if (rel === APK_INSTALLED) return 'apk';
  if (isPythonMetadata(rel, isFile)) return 'python';
  if (isNodeModulePackageJson(rel)) return 'npm-module';
  if (isPackageLock(rel)) return 'npm-lock';
  if (goCandidate && isGoBinaryCandidate(rel)) return 'go';
  return undefined;
}

/**
 * scanPackages reads the package databases of a filesystem given as snapshot directories stacked bottom→top: dpkg
 * (status and status.d), apk, Python dist-info and egg-info metadata, npm modules and lockfiles, and the build
 * information of Go executables in the usual binary folders. Only the files those readers name are read.
 */
export async function scanPackages(layerDirs: readonly string[], options: { signal: AbortSignal }): Promise<PackageScan> {
  const found = new Map<Reader, { rel: string; source: string }[]>();
  for await (const entry of walkMerged(layerDirs, options)) {
    if (SKIPPED_ROOTS.has(entry.rel)) continue;
    const top = entry.rel.split('/', 1)[0] ?? '';
    if (SKIPPED_ROOTS.has(top)) continue;
    const isFile = entry.stat.isFile();
    if (isFile && entry.stat.size > MAX_DATABASE_BYTES) continue;
    const reader = readerFor(entry.rel, isFile, isFile && (entry.stat.mode & 0o111) !== 0 && entry.stat.size >= MIN_GO_BINARY_BYTES);
    if (reader === undefined) continue;
    const list = found.get(reader) ?? [];
    list.push({ rel: entry.rel, source: entry.source });
    found.set(reader, list);
  }
  const files = (reader: Reader): { rel: string; source: string }[] => found.get(reader) ?? [];
  const read = (f: { source: string }): Promise<string> => readFile(f.source, { encoding: 'utf8', signal: options.signal });
  // /etc/os-release wins over /usr/lib/os-release, as the os-release manual says.
  const release = [...files('os-release')].sort((a, b) => (a.rel === 'etc/os-release' ? -1 : b.rel === 'etc/os-release' ? 1 : 0))[0];
  const distro = release === undefined ? undefined : parseOsRelease(await read(release));
  const packages: FoundPackage[] = [];
  for (const f of files('dpkg')) packages.push(...parseDpkgStatus(await read(f), { distro, foundIn: `/${f.rel}` }));
  for (const f of files('apk')) packages.push(...parseApkInstalled(await read(f), { distro, foundIn: `/${f.rel}` }));
  for (const f of files('python')) packages.push(...optional(parsePythonMetadata(await read(f), `/${f.rel}`)));
  for (const f of files('npm-module')) packages.push(...optional(parseNpmPackageJson(await read(f), `/${f.rel}`)));
  for (const f of files('npm-lock')) packages.push(...parseNpmLockfile(await read(f), `/${f.rel}`));
  for (const f of files('go')) packages.push(...(await readGoBuildInfo(f.source, `/${f.rel}`, options)));
  return { distro, packages: dedupe(packages) };
}

function optional<T>(value: T | undefined): T[] {
  return value === undefined ? [] : [value];
}

/** dedupe keeps the first package of each package URL and database. */
function dedupe(packages: readonly FoundPackage[]): FoundPackage[] {
  const seen = new Set<string>();
  return packages.filter((p) => {
    const key = p.kind === 'npm' || p.kind === 'python' ? p.purl : `${p.purl}\0${p.foundIn}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
