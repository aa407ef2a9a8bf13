import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseChallenge } from '../../../registry/auth.js';
import { loadDockerCredentials, normaliseAuthKey } from '../../../registry/credentials.js';
import { isLoopbackHost } from '../../../registry/endpoints.js';
import { selectPlatformManifest } from '../../../registry/platform-match.js';
import { digestOf } from '../../../base/digest.js';

describe('parseChallenge', () => {
  it('parses Bearer and Basic challenges', () => {
    expect(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' },
    });
    expect(parseChallenge('Basic realm="tbuild-test"')).toEqual({ scheme: 'basic', params: { realm: 'tbuild-test' } });
    expect(parseChallenge('Negotiate abc')).toBeUndefined();
  });
});

describe('docker credentials', () => {
  it('normalises auth keys', () => {
    expect(normaliseAuthKey('https://index.docker.io/v1/')).toBe('docker.io');
    expect(normaliseAuthKey('registry-1.docker.io')).toBe('docker.io');
    expect(normaliseAuthKey('http://127.0.0.1:5000')).toBe('127.0.0.1:5000');
    expect(normaliseAuthKey('ghcr.io')).toBe('ghcr.io');
  });

  it('reads auth and identitytoken entries', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tbuild-docker-config-'));
    try {
      const auths = {
        'https://index.docker.io/v1/': { auth: Buffer.from('me:pw:with:colons').toString('base64') },
        'ghcr.io': { auth: Buffer.from('<token>:').toString('base64'), identitytoken: 'refresh' },
        'empty.example': {},
      };
      await writeFile(join(dir, 'config.json'), JSON.stringify({ auths }));
      const store = await loadDockerCredentials(dir);
      expect(await store.credentialsFor('docker.io')).toEqual({ kind: 'basic', username: 'me', password: 'pw:with:colons' });
      expect(await store.credentialsFor('ghcr.io')).toEqual({ kind: 'identity-token', username: '<token>', token: 'refresh' });
      expect(await store.credentialsFor('empty.example')).toBeUndefined();
      expect(await (await loadDockerCredentials(join(dir, 'nope'))).credentialsFor('docker.io')).toBeUndefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('isLoopbackHost', () => {
  it.each([
    ['127.0.0.1:5000', true],
    ['127.1.2.3', true],
    ['localhost:5000', true],
    ['[::1]:5000', true],
    ['::1', true],
    ['registry-1.docker.io', false],
    ['10.0.0.1:5000', false],
    ['127.0.0.1.nip.io', false],
  ])('%s → %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});

describe('selectPlatformManifest', () => {
  const entry = (architecture: string, variant?: string) => ({
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest: digestOf(`${architecture}${variant ?? ''}`),
    size: 1,
    platform: { os: 'linux', architecture, ...(variant !== undefined ? { variant } : {}) },
  });
  const manifests = [entry('amd64'), entry('arm', 'v6'), entry('arm', 'v7'), entry('arm64', 'v8')];

  it('matches os, architecture and variant with defaults', () => {
    expect(selectPlatformManifest(manifests, { os: 'linux', architecture: 'amd64' })).toBe(manifests[0]);
    expect(selectPlatformManifest(manifests, { os: 'linux', architecture: 'arm' })).toBe(manifests[2]);
    expect(selectPlatformManifest(manifests, { os: 'linux', architecture: 'arm', variant: 'v6' })).toBe(manifests[1]);
    expect(selectPlatformManifest(manifests, { os: 'linux', architecture: 'arm64' })).toBe(manifests[3]);
    expect(selectPlatformManifest([entry('arm64')], { os: 'linux', architecture: 'arm64', variant: 'v8' })).toBeDefined();
    expect(selectPlatformManifest(manifests, { os: 'windows', architecture: 'amd64' })).toBeUndefined();
  });
});
