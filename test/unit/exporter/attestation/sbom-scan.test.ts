import { copyFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanPackages, spdxDocument } from '../../../../exporter/attestation/index.js';
import { makeWhiteout } from '../../../../native/index.js';
import { makeTempDir } from '../../../helpers/cli.js';

async function put(root: string, rel: string, content: string | Buffer): Promise<void> {
  await mkdir(dirname(join(root, rel)), { recursive: true });
  await writeFile(join(root, rel), content);
}

describe('scanPackages', () => {
  it('reads every package database of layers stacked as overlayfs shows them', async () => {
    await using tmp = await makeTempDir();
    const lower = join(tmp.path, 'lower');
    const upper = join(tmp.path, 'upper');
    await put(lower, 'usr/lib/os-release', 'ID=debian\nVERSION_ID="12"\n');
    await mkdir(join(lower, 'etc'), { recursive: true });
    await symlink('../usr/lib/os-release', join(lower, 'etc/os-release'));
    await put(lower, 'var/lib/dpkg/status', 'Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2+b2\n');
    await put(lower, 'app/package-lock.json', JSON.stringify({ lockfileVersion: 3, packages: { 'node_modules/gone': { version: '1.0.0' } } }));
    await put(lower, 'proc/ignored/node_modules/x/package.json', JSON.stringify({ name: 'x', version: '1.0.0' }));
    // The upper layer adds a package to dpkg's database, a Python distribution, a module and a Go binary, and deletes the lockfile.
    await put(upper, 'var/lib/dpkg/status', 'Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2+b2\n\nPackage: curl\nStatus: install ok installed\nArchitecture: amd64\nVersion: 7.88.1-10+deb12u5\n');
    await put(upper, 'usr/local/lib/python3.11/site-packages/requests-2.31.0.dist-info/METADATA', 'Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\n');
    await put(upper, 'app/node_modules/left-pad/package.json', JSON.stringify({ name: 'left-pad', version: '1.3.0', license: 'WTFPL' }));
    await mkdir(join(upper, 'app'), { recursive: true });
    makeWhiteout(join(upper, 'app/package-lock.json'));
    await mkdir(join(upper, 'usr/local/bin'), { recursive: true });
    await copyFile('/usr/bin/umoci', join(upper, 'usr/local/bin/umoci'));

    const scan = await scanPackages([lower, upper], { signal: new AbortController().signal });
    expect(scan.distro).toEqual({ id: 'debian', versionId: '12' });
    expect(scan.packages.map((p) => `${p.foundIn} ${p.purl}`)).toEqual([
      '/var/lib/dpkg/status pkg:deb/debian/bash@5.2.15-2+b2?arch=amd64&distro=debian-12',
      '/var/lib/dpkg/status pkg:deb/debian/curl@7.88.1-10+deb12u5?arch=amd64&distro=debian-12',
      '/usr/local/lib/python3.11/site-packages/requests-2.31.0.dist-info/METADATA pkg:pypi/requests@2.31.0',
      '/app/node_modules/left-pad/package.json pkg:npm/left-pad@1.3.0',
      expect.stringMatching(/^\/usr\/local\/bin\/umoci pkg:golang\/stdlib@1\.\d+/),
    ]);

    const doc = spdxDocument(scan, { imageName: 'example.com/app:v1', imageDigest: `sha256:${'a'.repeat(64)}`, created: '2024-01-01T00:00:00Z', tool: 'tbuild-0.1.0' });
    expect(doc).toMatchObject({ spdxVersion: 'SPDX-2.3', SPDXID: 'SPDXRef-DOCUMENT', creationInfo: { creators: ['Tool: tbuild-0.1.0'] } });
    expect(doc.documentNamespace).toBe(`https://spdx.org/spdxdocs/tbuild/${'a'.repeat(64)}`);
    const leftPad = doc.packages.find((p) => p['name'] === 'left-pad');
    expect(leftPad).toMatchObject({ versionInfo: '1.3.0', licenseDeclared: 'WTFPL', externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: 'pkg:npm/left-pad@1.3.0' }] });
    // Every package is contained in the image the document describes, and element ids are unique.
    expect(doc.relationships.filter((r) => r.relationshipType === 'CONTAINS')).toHaveLength(scan.packages.length);
    expect(new Set(doc.packages.map((p) => p['SPDXID'])).size).toBe(doc.packages.length);
    for (const p of doc.packages) expect(String(p['SPDXID'])).toMatch(/^SPDXRef-[A-Za-z0-9.-]+$/);
  });
});
