import { describe, expect, it } from 'vitest';
import { digestOf } from '../../../base/digest.js';
import type { Descriptor, Platform } from '../../../base/oci.js';
import { selectPlatformManifest } from '../../../registry/platform-match.js';

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

function entry(text: string | undefined, mediaType = MANIFEST): Descriptor {
  const digest = digestOf(text ?? 'none');
  if (text === undefined) return { mediaType, digest, size: 1 };
  const [os = '', architecture = '', variant] = text.split('/');
  return { mediaType, digest, size: 1, platform: { os, architecture, ...(variant === undefined ? {} : { variant }) } };
}

const wanted = (text: string): Platform => {
  const [os = '', architecture = '', variant] = text.split('/');
  return variant === undefined ? { os, architecture } : { os, architecture, variant };
};

function pick(index: readonly (string | undefined)[], platform: string): string | undefined {
  const manifests = index.map((t) => entry(t));
  const chosen = selectPlatformManifest(manifests, wanted(platform));
  return chosen === undefined ? undefined : index[manifests.indexOf(chosen)] ?? 'no platform';
}

describe('selectPlatformManifest', () => {
  it('takes the exact variant over an older one whatever the index order', () => {
    expect(pick(['linux/arm/v6', 'linux/arm/v7'], 'linux/arm/v7')).toBe('linux/arm/v7');
    expect(pick(['linux/arm/v5', 'linux/arm/v6'], 'linux/arm/v7')).toBe('linux/arm/v6');
    expect(pick(['linux/arm/v7'], 'linux/arm/v6')).toBeUndefined();
    expect(pick(['linux/arm/v7'], 'linux/arm')).toBe('linux/arm/v7');
  });

  it('treats arm64 and arm64/v8 as one platform and falls back to 32-bit arm', () => {
    expect(pick(['linux/amd64', 'linux/arm64'], 'linux/arm64/v8')).toBe('linux/arm64');
    expect(pick(['linux/amd64', 'linux/arm64/v8'], 'linux/arm64')).toBe('linux/arm64/v8');
    expect(pick(['linux/arm/v7', 'linux/arm/v6'], 'linux/arm64')).toBe('linux/arm/v7');
    expect(pick(['linux/arm/v7', 'linux/arm64/v8'], 'linux/arm64')).toBe('linux/arm64/v8');
  });

  it('orders amd64 variants and falls back to 386', () => {
    expect(pick(['linux/amd64/v2', 'linux/amd64'], 'linux/amd64')).toBe('linux/amd64');
    expect(pick(['linux/amd64', 'linux/amd64/v2'], 'linux/amd64/v3')).toBe('linux/amd64/v2');
    expect(pick(['linux/amd64/v3', 'linux/amd64/v4'], 'linux/amd64/v3')).toBe('linux/amd64/v3');
    expect(pick(['linux/386'], 'linux/amd64')).toBe('linux/386');
    expect(pick(['linux/386', 'linux/amd64'], 'linux/amd64')).toBe('linux/amd64');
  });

  it('takes an image manifest without a platform only when nothing matches, and never an attestation', () => {
    expect(pick([undefined, 'linux/amd64'], 'linux/amd64')).toBe('linux/amd64');
    expect(pick([undefined, 'linux/amd64'], 'linux/s390x')).toBe('no platform');
    expect(pick(['linux/amd64', 'unknown/unknown'], 'linux/s390x')).toBeUndefined();
    const nested = [entry(undefined, 'application/vnd.oci.image.index.v1+json')];
    expect(selectPlatformManifest(nested, wanted('linux/amd64'))).toBeUndefined();
  });
});
