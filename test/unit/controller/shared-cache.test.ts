import { describe, expect, it } from 'vitest';
import { formatPlatform, hostPlatform } from '../../../base/oci.js';
import { sharedCacheRef, withSharedCache } from '../../../controller/shared-cache.js';
import type { BuildRequest } from '../../../controller/index.js';

const SETTINGS = { repository: 'reg:5000/tbuild-cache', host: 'reg:5000', mode: 'max' as const };
const REQUEST: BuildRequest = { dockerfile: { name: 'Dockerfile', bytes: new Uint8Array() }, context: { kind: 'folder', dir: '/src' }, outputs: [] };

describe('the shared cache of a builder', () => {
  it('tags each project and platform set apart, whatever the order of the platforms', () => {
    const a = sharedCacheRef(SETTINGS, 'project-a', ['linux/amd64']);
    expect(a).toMatch(/^reg:5000\/tbuild-cache:p-[0-9a-f]{32}$/);
    expect(sharedCacheRef(SETTINGS, 'project-a', ['linux/amd64'])).toBe(a);
    expect(sharedCacheRef(SETTINGS, 'project-b', ['linux/amd64'])).not.toBe(a);
    expect(sharedCacheRef(SETTINGS, 'project-a', ['linux/arm64'])).not.toBe(a);
    expect(sharedCacheRef(SETTINGS, 'project-a', ['linux/arm64', 'linux/amd64'])).toBe(sharedCacheRef(SETTINGS, 'project-a', ['linux/amd64', 'linux/arm64']));
  });

  it("adds an import and an export that ignores errors after the client's own caches, keyed by the host platform without --platform", () => {
    const own = { type: 'registry' as const, target: 'reg:5000/own:c', mode: 'min' as const, compression: 'zstd' as const, imageManifest: true, ociMediaTypes: true, ignoreError: false };
    const request = withSharedCache({ ...REQUEST, cacheFrom: [{ type: 'registry', ref: 'reg:5000/own:c' }], cacheTo: [own] }, 'p', SETTINGS);
    const ref = sharedCacheRef(SETTINGS, 'p', [formatPlatform(hostPlatform())]);
    expect(request.cacheFrom).toEqual([{ type: 'registry', ref: 'reg:5000/own:c' }, { type: 'registry', ref }]);
    expect(request.cacheTo).toEqual([own, { type: 'registry', target: ref, mode: 'max', compression: 'gzip', imageManifest: true, ociMediaTypes: true, ignoreError: true }]);
  });

  it('keys a build of several platforms by all of them, imports nothing with --no-cache, and adds nothing the client asked for already', () => {
    const platforms = [{ os: 'linux', architecture: 'arm64' }, { os: 'linux', architecture: 'amd64' }];
    const ref = sharedCacheRef(SETTINGS, 'p', ['linux/amd64', 'linux/arm64']);
    const noCache = withSharedCache({ ...REQUEST, platforms, noCache: true }, 'p', { ...SETTINGS, mode: 'min' });
    expect(noCache.cacheFrom).toEqual([]);
    expect(noCache.cacheTo).toMatchObject([{ type: 'registry', target: ref, mode: 'min', ignoreError: true }]);
    const asked = withSharedCache({ ...REQUEST, platforms, cacheFrom: [{ type: 'registry', ref }], cacheTo: [{ type: 'registry', target: ref, mode: 'min', compression: 'gzip', imageManifest: true, ociMediaTypes: true, ignoreError: false }] }, 'p', SETTINGS);
    expect(asked.cacheFrom).toHaveLength(1);
    expect(asked.cacheTo).toEqual([expect.objectContaining({ target: ref, ignoreError: false })]);
    expect(withSharedCache(REQUEST, 'p', undefined)).toBe(REQUEST);
  });
});
