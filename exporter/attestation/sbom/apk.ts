import { formatPackageUrl } from '../purl.js';
import { distroQualifier, type Distro, type FoundPackage } from './package.js';

/** APK_INSTALLED is apk's database of installed packages. */
export const APK_INSTALLED = 'lib/apk/db/installed';

/**
 * parseApkInstalled lists the packages of an apk installed database: stanzas of one-letter fields (`P:` name,
 * `V:` version, `A:` architecture, `L:` license, `o:` origin, `m:` maintainer, `U:` URL, `T:` description) separated
 * by blank lines. File lines (`F:`, `R:`, `Z:` …) are skipped.
 */
export function parseApkInstalled(text: string, options: { distro: Distro | undefined; foundIn: string }): FoundPackage[] {
  const out: FoundPackage[] = [];
  let fields = new Map<string, string>();
  const flush = (): void => {
    const name = fields.get('P');
    const version = fields.get('V');
    if (name !== undefined && version !== undefined) out.push(apkPackage(name, version, fields, options));
    fields = new Map();
  };
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      flush();
      continue;
    }
    if (line.length < 2 || line[1] !== ':') continue;
    const key = line[0] ?? '';
    if (!fields.has(key)) fields.set(key, line.slice(2));
  }
  flush();
  return out;
}

function apkPackage(name: string, version: string, fields: ReadonlyMap<string, string>, options: { distro: Distro | undefined; foundIn: string }): FoundPackage {
  const origin = fields.get('o');
  const purl = formatPackageUrl({
    type: 'apk',
    namespace: options.distro?.id ?? 'alpine',
    name,
    version,
    qualifiers: [
      ['arch', fields.get('A') ?? ''],
      ['upstream', origin !== undefined && origin !== name ? origin : ''],
      ['distro', distroQualifier(options.distro)],
    ],
  });
  const supplier = fields.get('m');
  const license = fields.get('L');
  const homepage = fields.get('U');
  const summary = fields.get('T');
  return {
    kind: 'apk',
    name,
    version,
    purl,
    foundIn: options.foundIn,
    ...(supplier ? { supplier } : {}),
    ...(license ? { license } : {}),
    ...(homepage ? { homepage } : {}),
    ...(summary ? { summary } : {}),
    ...(origin !== undefined && origin !== name ? { sourcePackage: origin } : {}),
  };
}
