import { describe, expect, it } from 'vitest';
import {
  goModulePackages,
  isNodeModulePackageJson,
  isPackageLock,
  isPythonMetadata,
  parseApkInstalled,
  parseDpkgStatus,
  parseGoBuildInfo,
  parseNpmLockfile,
  parseNpmPackageJson,
  parseOsRelease,
  parsePythonMetadata,
} from '../../../../exporter/attestation/index.js';

const BOOKWORM = { id: 'debian', versionId: '12' };

const DPKG_STATUS = `Package: adduser
Status: install ok installed
Priority: important
Maintainer: Debian Adduser Developers <adduser@packages.debian.org>
Architecture: all
Multi-Arch: foreign
Version: 3.134
Conffiles:
 /etc/adduser.conf cc3493ecd2d09837ffdcc3e25fdfff18
Description: add and remove users and groups
 This package includes the 'adduser' and 'deluser' commands.
 .
 More text.

Package: libc6
Status: install ok installed
Architecture: amd64
Multi-Arch: same
Source: glibc
Version: 2.36-9+deb12u4
Homepage: https://www.gnu.org/software/libc/libc.html
Description: GNU C Library: Shared libraries

Package: libc6
Status: install ok installed
Architecture: i386
Multi-Arch: same
Source: glibc
Version: 2.36-9+deb12u4
Description: GNU C Library: Shared libraries

Package: bash
Status: install ok installed
Architecture: amd64
Source: bash (5.2.15-2)
Version: 5.2.15-2+b2

Package: removed-pkg
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0

Package: half
Status: install ok half-installed
Architecture: amd64
Version: 2:1.0~rc1-1
`;

describe('parseDpkgStatus', () => {
  const pkgs = parseDpkgStatus(DPKG_STATUS, { distro: BOOKWORM, foundIn: '/var/lib/dpkg/status' });

  it('lists installed packages only, with their versions', () => {
    expect(pkgs.map((p) => `${p.name}=${p.version}`)).toEqual(['adduser=3.134', 'libc6=2.36-9+deb12u4', 'libc6=2.36-9+deb12u4', 'bash=5.2.15-2+b2']);
  });

  it('keeps a multi-arch package once per architecture, each with its own package URL', () => {
    const libc = pkgs.filter((p) => p.name === 'libc6').map((p) => p.purl);
    expect(libc).toEqual([
      'pkg:deb/debian/libc6@2.36-9+deb12u4?arch=amd64&upstream=glibc&distro=debian-12',
      'pkg:deb/debian/libc6@2.36-9+deb12u4?arch=i386&upstream=glibc&distro=debian-12',
    ]);
  });

  it('names the source package with its version when it differs from the binary version', () => {
    expect(pkgs.find((p) => p.name === 'bash')?.purl).toBe('pkg:deb/debian/bash@5.2.15-2+b2?arch=amd64&upstream=bash@5.2.15-2&distro=debian-12');
    expect(pkgs.find((p) => p.name === 'adduser')).toMatchObject({
      purl: 'pkg:deb/debian/adduser@3.134?arch=all&distro=debian-12',
      supplier: 'Debian Adduser Developers <adduser@packages.debian.org>',
      summary: 'add and remove users and groups',
    });
  });

  it('reads status.d stanzas, which carry no Status field, and escapes epochs and tildes as purl wants', () => {
    const pkgs = parseDpkgStatus('Package: tzdata\nVersion: 1:2024a-0+deb12u1~x\nArchitecture: all\n', { distro: undefined, foundIn: '/var/lib/dpkg/status.d/tzdata' });
    expect(pkgs).toEqual([expect.objectContaining({ name: 'tzdata', version: '1:2024a-0+deb12u1~x', purl: 'pkg:deb/debian/tzdata@1:2024a-0+deb12u1~x?arch=all' })]);
  });
});

describe('parseOsRelease', () => {
  it('reads ID and VERSION_ID, quoted or not', () => {
    expect(parseOsRelease('NAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n')).toEqual(BOOKWORM);
    expect(parseOsRelease('ID=alpine\nVERSION_ID=3.20.0\n')).toEqual({ id: 'alpine', versionId: '3.20.0' });
    expect(parseOsRelease('NAME=x\n')).toBeUndefined();
  });
});

describe('parseApkInstalled', () => {
  it('lists each stanza with its version, architecture, license and origin', () => {
    const db = 'C:Q1abc=\nP:busybox\nV:1.36.1-r29\nA:x86_64\nL:GPL-2.0-only\no:busybox\nm:Sören Tempel <soeren+alpine@soeren-tempel.net>\nU:https://busybox.net/\nT:Size optimized toolbox\nF:bin\nR:busybox\n\nP:busybox-binsh\nV:1.36.1-r29\nA:x86_64\no:busybox\n';
    const pkgs = parseApkInstalled(db, { distro: { id: 'alpine', versionId: '3.20.0' }, foundIn: '/lib/apk/db/installed' });
    expect(pkgs.map((p) => p.purl)).toEqual([
      'pkg:apk/alpine/busybox@1.36.1-r29?arch=x86_64&distro=alpine-3.20.0',
      'pkg:apk/alpine/busybox-binsh@1.36.1-r29?arch=x86_64&upstream=busybox&distro=alpine-3.20.0',
    ]);
    expect(pkgs[0]).toMatchObject({ license: 'GPL-2.0-only', homepage: 'https://busybox.net/', summary: 'Size optimized toolbox', supplier: 'Sören Tempel <soeren+alpine@soeren-tempel.net>' });
    expect(pkgs[1]).toMatchObject({ sourcePackage: 'busybox' });
  });
});

describe('parsePythonMetadata', () => {
  it('reads the headers of a dist-info METADATA file and names the package as pypi normalizes it', () => {
    const text = 'Metadata-Version: 2.1\nName: Typing_Extensions\nVersion: 4.9.0\nSummary: Backported type hints\nLicense: PSF\nHome-page: https://example.org\n\nName: not-a-header\n';
    expect(parsePythonMetadata(text, '/usr/lib/python3/dist-packages/typing_extensions-4.9.0.dist-info/METADATA')).toMatchObject({
      name: 'Typing_Extensions',
      version: '4.9.0',
      purl: 'pkg:pypi/typing-extensions@4.9.0',
      license: 'PSF',
      homepage: 'https://example.org',
    });
  });

  it('finds dist-info and egg-info metadata and nothing else', () => {
    expect(isPythonMetadata('usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA', true)).toBe(true);
    expect(isPythonMetadata('usr/local/lib/python3.11/site-packages/foo-1.0-py3.11.egg-info/PKG-INFO', true)).toBe(true);
    expect(isPythonMetadata('usr/lib/python3/dist-packages/bar-2.0.egg-info', true)).toBe(true);
    expect(isPythonMetadata('usr/lib/python3/dist-packages/bar-2.0.egg-info', false)).toBe(false);
    expect(isPythonMetadata('usr/lib/python3/dist-packages/six.py', true)).toBe(false);
    expect(parsePythonMetadata('Metadata-Version: 2.1\nSummary: x\n', 'METADATA')).toBeUndefined();
  });
});

describe('npm', () => {
  it('reads installed modules, scoped ones under their scope namespace', () => {
    expect(isNodeModulePackageJson('app/node_modules/@babel/core/package.json')).toBe(true);
    expect(isNodeModulePackageJson('app/node_modules/left-pad/package.json')).toBe(true);
    expect(isNodeModulePackageJson('app/node_modules/left-pad/lib/package.json')).toBe(false);
    expect(isNodeModulePackageJson('app/package.json')).toBe(false);
    const core = parseNpmPackageJson(JSON.stringify({ name: '@babel/core', version: '7.23.0', license: 'MIT', author: { name: 'The Babel Team' } }), '/app/node_modules/@babel/core/package.json');
    expect(core).toMatchObject({ purl: 'pkg:npm/%40babel/core@7.23.0', license: 'MIT', supplier: 'The Babel Team' });
    expect(parseNpmPackageJson('{"name": "x"}', 'p')).toBeUndefined();
    expect(parseNpmPackageJson('{not json', 'p')).toBeUndefined();
  });

  it('reads lockfile version 3 packages without the project itself or links', () => {
    expect(isPackageLock('app/package-lock.json')).toBe(true);
    expect(isPackageLock('app/node_modules/x/package-lock.json')).toBe(false);
    const lock = {
      lockfileVersion: 3,
      packages: {
        '': { name: 'app', version: '1.0.0' },
        'node_modules/express': { version: '4.18.2', license: 'MIT' },
        'node_modules/express/node_modules/debug': { version: '2.6.9' },
        'node_modules/@types/node': { version: '20.1.0' },
        'node_modules/local': { resolved: '../local', link: true },
      },
    };
    expect(parseNpmLockfile(JSON.stringify(lock), '/app/package-lock.json').map((p) => p.purl)).toEqual([
      'pkg:npm/express@4.18.2',
      'pkg:npm/debug@2.6.9',
      'pkg:npm/%40types/node@20.1.0',
    ]);
  });

  it('reads lockfile version 1 nested dependencies, leaving out those not from a registry', () => {
    const lock = { lockfileVersion: 1, dependencies: { a: { version: '1.0.0', dependencies: { b: { version: '2.0.0' } } }, c: { version: 'file:../c' } } };
    expect(parseNpmLockfile(JSON.stringify(lock), '/p').map((p) => `${p.name}@${p.version}`)).toEqual(['a@1.0.0', 'b@2.0.0']);
  });
});

describe('Go build information', () => {
  const varint = (n: number): Buffer => {
    const out: number[] = [];
    let v = n;
    while (v >= 0x80) {
      out.push((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    out.push(v);
    return Buffer.from(out);
  };
  const section = (version: string, modinfo: string): Buffer => {
    const header = Buffer.alloc(32);
    Buffer.from('\xff Go buildinf:', 'latin1').copy(header);
    header[14] = 8;
    header[15] = 2;
    const start = Buffer.from('3077af0c9274080241e1c107e6d618e6', 'hex');
    const end = Buffer.from('f932433186182072008242104116d8f2', 'hex');
    const mod = Buffer.concat([start, Buffer.from(modinfo), end]);
    return Buffer.concat([header, varint(version.length), Buffer.from(version), varint(mod.length), mod]);
  };

  it('reads the modules of a Go 1.18+ binary, replacements included, and the standard library', () => {
    const modinfo = 'path\texample.com/cmd/tool\nmod\texample.com/cmd\t(devel)\t\ndep\tgithub.com/pkg/errors\tv0.9.1\th1:abc=\ndep\tgolang.org/x/sys\tv0.1.0\th1:def=\n=>\tgithub.com/fork/sys\tv0.1.1\th1:ghi=\nbuild\t-compiler=gc\n';
    const info = parseGoBuildInfo(section('go1.21.5', modinfo));
    expect(info?.goVersion).toBe('go1.21.5');
    expect(goModulePackages(info ?? { goVersion: '', modinfo: '' }, '/usr/local/bin/tool').map((p) => p.purl)).toEqual([
      'pkg:golang/github.com/pkg/errors@v0.9.1',
      'pkg:golang/github.com/fork/sys@v0.1.1',
      'pkg:golang/stdlib@1.21.5',
    ]);
  });

  it('gives nothing for sections in the pre-1.18 layout or without the magic', () => {
    const old = section('go1.17', '');
    old[15] = 0;
    expect(parseGoBuildInfo(old)).toBeUndefined();
    expect(parseGoBuildInfo(Buffer.alloc(64))).toBeUndefined();
  });
});
