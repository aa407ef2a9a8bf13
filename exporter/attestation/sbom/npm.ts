import { formatPackageUrl } from '../purl.js';
import type { FoundPackage } from './package.js';

/** isNodeModulePackageJson tells whether a path is the package.json of an installed module (`node_modules/[@scope/]name/package.json`). */
export function isNodeModulePackageJson(path: string): boolean {
  return /(^|\/)node_modules\/(@[^/]+\/)?[^/@][^/]*\/package\.json$/.test(path);
}

/** isPackageLock tells whether a path is an npm lockfile outside node_modules (a project's own). */
export function isPackageLock(path: string): boolean {
  return /(^|\/)package-lock\.json$/.test(path) && !/(^|\/)node_modules\//.test(path);
}

/** npmPackageUrl names an npm package: the scope is the namespace (`pkg:npm/%40babel/core@7.0.0`). */
export function npmPackageUrl(name: string, version: string): string {
  const slash = name.startsWith('@') ? name.indexOf('/') : -1;
  return formatPackageUrl({ type: 'npm', ...(slash < 0 ? {} : { namespace: name.slice(0, slash) }), name: name.slice(slash + 1), version });
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** licenseOf reads `license` ("MIT", {type}) or the old `licenses` list. */
function licenseOf(pkg: Record<string, unknown>): string | undefined {
  const license = pkg['license'];
  if (typeof license === 'string') return text(license);
  const typed = text(record(license)?.['type']);
  if (typed !== undefined) return typed;
  const list = Array.isArray(pkg['licenses']) ? (pkg['licenses'] as unknown[]) : [];
  const types = list.flatMap((l) => text(record(l)?.['type']) ?? []);
  return types.length === 0 ? undefined : types.join(' OR ');
}

function npmPackage(name: string, version: string, pkg: Record<string, unknown>, foundIn: string): FoundPackage {
  const license = licenseOf(pkg);
  const homepage = text(pkg['homepage']);
  const summary = text(pkg['description']);
  const author = typeof pkg['author'] === 'string' ? text(pkg['author']) : text(record(pkg['author'])?.['name']);
  return {
    kind: 'npm',
    name,
    version,
    purl: npmPackageUrl(name, version),
    foundIn,
    ...(license === undefined ? {} : { license }),
    ...(homepage === undefined ? {} : { homepage }),
    ...(summary === undefined ? {} : { summary }),
    ...(author === undefined ? {} : { supplier: author }),
  };
}

/** parseNpmPackageJson reads an installed module's package.json; undefined when it names no package and version. */
export function parseNpmPackageJson(json: string, foundIn: string): FoundPackage | undefined {
  const pkg = record(parseJson(json));
  const name = text(pkg?.['name']);
  const version = text(pkg?.['version']);
  if (pkg === undefined || name === undefined || version === undefined) return undefined;
  return npmPackage(name, version, pkg, foundIn);
}

/**
 * parseNpmLockfile lists the packages a package-lock.json pins: lockfile versions 2 and 3 by their `packages` entries
 * (the project itself, "", and links left out), version 1 by its nested `dependencies`.
 */
export function parseNpmLockfile(json: string, foundIn: string): FoundPackage[] {
  const lock = record(parseJson(json));
  if (lock === undefined) return [];
  const packages = record(lock['packages']);
  const out: FoundPackage[] = [];
  if (packages !== undefined) {
    for (const [key, value] of Object.entries(packages)) {
      const entry = record(value);
      if (key === '' || entry === undefined || entry['link'] === true) continue;
      const name = text(entry['name']) ?? key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
      const version = text(entry['version']);
      if (version !== undefined && name !== '') out.push(npmPackage(name, version, entry, foundIn));
    }
    return out;
  }
  const walk = (deps: Record<string, unknown> | undefined): void => {
    for (const [name, value] of Object.entries(deps ?? {})) {
      const entry = record(value);
      const version = text(entry?.['version']);
      if (entry === undefined || version === undefined) continue;
      // A v1 dependency installed from elsewhere has its source as version (`file:`, `git+`): it is no registry release.
      if (!/^[a-z+]+:/.test(version)) out.push(npmPackage(name, version, entry, foundIn));
      walk(record(entry['dependencies']));
    }
  };
  walk(record(lock['dependencies']));
  return out;
}

/** parseJson reads JSON a package ships; a malformed file is not a package (npm would not load it either). */
function parseJson(json: string): unknown {
  try {
    return JSON.parse(json) as unknown;
  } catch (err) {
    if (err instanceof SyntaxError) return undefined;
    throw err;
  }
}
