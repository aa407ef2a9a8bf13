import { formatPackageUrl } from '../purl.js';
import { distroQualifier, parseStanzas, type Distro, type FoundPackage } from './package.js';

/** DPKG_STATUS is dpkg's database of installed packages. */
export const DPKG_STATUS = 'var/lib/dpkg/status';
/** DPKG_STATUS_DIR holds one status stanza per file, as distroless images keep their packages. */
export const DPKG_STATUS_DIR = 'var/lib/dpkg/status.d';

/**
 * parseDpkgStatus lists the installed packages of a dpkg status file (or a status.d file). A stanza counts when its
 * Status says "installed" (status.d stanzas carry no Status and all count). Multi-arch packages installed for several
 * architectures are listed once per architecture.
 */
export function parseDpkgStatus(text: string, options: { distro: Distro | undefined; foundIn: string }): FoundPackage[] {
  const out: FoundPackage[] = [];
  for (const stanza of parseStanzas(text)) {
    const name = stanza.get('Package');
    const version = stanza.get('Version');
    if (name === undefined || version === undefined) continue;
    const status = stanza.get('Status');
    if (status !== undefined && status.split(/\s+/)[2] !== 'installed') continue;
    const arch = stanza.get('Architecture') ?? '';
    const source = parseSource(stanza.get('Source'), version);
    const namespace = options.distro?.id ?? 'debian';
    // The upstream qualifier names the source package, with its version when it differs from the binary's (syft's form).
    const upstream = source === undefined ? '' : source.version === version ? source.name : `${source.name}@${source.version}`;
    const purl = formatPackageUrl({
      type: 'deb',
      namespace,
      name,
      version,
      qualifiers: [
        ['arch', arch],
        ['upstream', upstream],
        ['distro', distroQualifier(options.distro)],
      ],
    });
    const maintainer = stanza.get('Maintainer');
    const homepage = stanza.get('Homepage');
    const summary = stanza.get('Description')?.split('\n')[0];
    out.push({
      kind: 'deb',
      name,
      version,
      purl,
      foundIn: options.foundIn,
      ...(maintainer === undefined ? {} : { supplier: maintainer }),
      ...(homepage === undefined ? {} : { homepage }),
      ...(summary === undefined || summary === '' ? {} : { summary }),
      ...(source === undefined ? {} : { sourcePackage: source.name }),
    });
  }
  return out;
}

/** parseSource reads a Source field, `name` or `name (version)`; the version defaults to the binary's. */
function parseSource(field: string | undefined, version: string): { name: string; version: string } | undefined {
  if (field === undefined || field === '') return undefined;
  const m = /^(\S+)(?:\s+\((.+)\))?$/.exec(field.trim());
  if (m?.[1] === undefined) return undefined;
  return { name: m[1], version: m[2] ?? version };
}
