import { describe, expect, it } from 'vitest';
import { formatPlatform, type Platform } from '../../../base/oci.js';
import { normalizePlatform, platformRank, platformVector, samePlatform } from '../../../base/platform.js';

const p = (text: string): Platform => {
  const [os = '', architecture = '', variant] = text.split('/');
  return variant === undefined ? { os, architecture } : { os, architecture, variant };
};

describe('normalizePlatform', () => {
  it.each([
    ['linux/aarch64', 'linux/arm64'],
    ['linux/arm64/v8', 'linux/arm64'],
    ['linux/arm64/8', 'linux/arm64'],
    ['linux/arm64/v9.0', 'linux/arm64/v9'],
    ['linux/armhf', 'linux/arm/v7'],
    ['linux/armel', 'linux/arm/v6'],
    ['linux/arm', 'linux/arm/v7'],
    ['linux/arm/6', 'linux/arm/v6'],
    ['linux/x86_64', 'linux/amd64'],
    ['linux/amd64/v1', 'linux/amd64'],
    ['linux/amd64/v3', 'linux/amd64/v3'],
    ['linux/i386', 'linux/386'],
    ['Linux/S390X', 'linux/s390x'],
  ])('%s → %s', (given, expected) => {
    expect(formatPlatform(normalizePlatform(p(given)))).toBe(expected);
  });
});

describe('platformVector', () => {
  it.each([
    ['linux/arm/v7', ['linux/arm/v7', 'linux/arm/v6', 'linux/arm/v5']],
    ['linux/arm/v5', ['linux/arm/v5']],
    ['linux/arm64', ['linux/arm64/v8', 'linux/arm/v8', 'linux/arm/v7', 'linux/arm/v6', 'linux/arm/v5']],
    ['linux/arm64/v8.2', ['linux/arm64/v8.2', 'linux/arm64/v8.1', 'linux/arm64/v8', 'linux/arm/v8', 'linux/arm/v7', 'linux/arm/v6', 'linux/arm/v5']],
    ['linux/amd64', ['linux/amd64', 'linux/386']],
    ['linux/amd64/v3', ['linux/amd64/v3', 'linux/amd64/v2', 'linux/amd64/v1', 'linux/386']],
    ['linux/s390x', ['linux/s390x']],
  ])('%s accepts %j in that order', (wanted, expected) => {
    expect(platformVector(normalizePlatform(p(wanted))).map(formatPlatform)).toEqual(expected);
  });

  it('lists arm64/v9 with the v8 revisions it includes', () => {
    const v = platformVector(normalizePlatform(p('linux/arm64/v9'))).map(formatPlatform);
    expect(v.slice(0, 7)).toEqual(['linux/arm64/v9', 'linux/arm64/v8.5', 'linux/arm64/v8.4', 'linux/arm64/v8.3', 'linux/arm64/v8.2', 'linux/arm64/v8.1', 'linux/arm64/v8']);
  });
});

describe('platformRank', () => {
  it('ranks the platform itself first and fallbacks after it', () => {
    expect(platformRank(p('linux/arm/v7'), p('linux/arm/v7'))).toBe(0);
    expect(platformRank(p('linux/arm/v7'), p('linux/arm/v6'))).toBe(1);
    expect(platformRank(p('linux/arm/v6'), p('linux/arm/v7'))).toBeUndefined();
    expect(platformRank(p('linux/arm64'), p('linux/arm64/v8'))).toBe(0);
    expect(platformRank(p('linux/arm64/v8'), p('linux/arm64'))).toBe(0);
    expect(platformRank(p('linux/amd64'), p('linux/amd64/v1'))).toBe(0);
    expect(platformRank(p('linux/amd64'), p('linux/amd64/v2'))).toBeUndefined();
    expect(platformRank(p('linux/amd64'), p('linux/386'))).toBe(1);
    expect(platformRank(p('linux/amd64'), p('windows/amd64'))).toBeUndefined();
  });

  it('takes a candidate only when the wanted platform has all its OS features', () => {
    expect(platformRank(p('linux/amd64'), { ...p('linux/amd64'), 'os.features': ['x'] })).toBeUndefined();
    expect(platformRank({ ...p('linux/amd64'), 'os.features': ['x', 'y'] }, { ...p('linux/amd64'), 'os.features': ['x'] })).toBe(0);
  });

  it('compares platforms normalized', () => {
    expect(samePlatform(p('linux/aarch64'), p('linux/arm64/v8'))).toBe(true);
    expect(samePlatform(p('linux/arm'), p('linux/arm/v7'))).toBe(true);
    expect(samePlatform(p('linux/arm/v6'), p('linux/arm/v7'))).toBe(false);
  });
});
