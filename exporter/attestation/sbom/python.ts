import { formatPackageUrl } from '../purl.js';
import { parseStanzas, type FoundPackage } from './package.js';

/**
 * isPythonMetadata tells whether a path is the metadata of an installed Python distribution: `NAME.dist-info/METADATA`
 * (wheels, pip), `NAME.egg-info/PKG-INFO` (setuptools) or an `NAME.egg-info` file holding the same headers.
 */
export function isPythonMetadata(path: string, isFile: boolean): boolean {
  if (/\.dist-info\/METADATA$/.test(path) || /\.egg-info\/PKG-INFO$/.test(path)) return true;
  return isFile && /\.egg-info$/.test(path);
}

/** normalizePythonName normalizes a distribution name as PEP 503 does (the form pypi package URLs use). */
export function normalizePythonName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** parsePythonMetadata reads the core metadata headers (Name, Version, License, Home-page, Summary, Author). */
export function parsePythonMetadata(text: string, foundIn: string): FoundPackage | undefined {
  // The headers end at the first blank line; the description follows.
  const headers = parseStanzas(text.split(/\r?\n\r?\n/, 1)[0] ?? '')[0];
  const name = headers?.get('Name');
  const version = headers?.get('Version');
  if (headers === undefined || name === undefined || version === undefined) return undefined;
  const license = headers.get('License-Expression') ?? headers.get('License');
  const homepage = headers.get('Home-page') ?? headers.get('Home-Page');
  const summary = headers.get('Summary');
  const author = headers.get('Author') ?? headers.get('Author-email');
  return {
    kind: 'python',
    name,
    version,
    purl: formatPackageUrl({ type: 'pypi', name: normalizePythonName(name), version }),
    foundIn,
    ...(license === undefined || license === '' || license === 'UNKNOWN' ? {} : { license: license.split('\n')[0] ?? license }),
    ...(homepage === undefined || homepage === '' || homepage === 'UNKNOWN' ? {} : { homepage }),
    ...(summary === undefined || summary === '' || summary === 'UNKNOWN' ? {} : { summary }),
    ...(author === undefined || author === '' || author === 'UNKNOWN' ? {} : { supplier: author }),
  };
}
