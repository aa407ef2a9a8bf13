import { describe, expect, it } from 'vitest';
import { hostPlatform } from '../../../base/oci.js';
import { indexPlatforms } from '../../../controller/multi-platform.js';

const AMD64 = { os: 'linux', architecture: 'amd64' };
const ARM64 = { os: 'linux', architecture: 'arm64' };
const arg = (v: string): ReadonlyMap<string, string> => new Map([['BUILDKIT_MULTI_PLATFORM', v]]);

describe('BUILDKIT_MULTI_PLATFORM', () => {
  it('makes an index of several platforms, and of one only when asked, as BuildKit', () => {
    expect(indexPlatforms({})).toEqual([]);
    expect(indexPlatforms({ platform: AMD64 })).toEqual([]);
    expect(indexPlatforms({ platforms: [AMD64] })).toEqual([]);
    expect(indexPlatforms({ platforms: [AMD64, ARM64] })).toEqual([AMD64, ARM64]);
    // Go booleans: 1, t, TRUE, …; an empty value is unset.
    expect(indexPlatforms({ buildArgs: arg('1'), platform: ARM64 })).toEqual([ARM64]);
    expect(indexPlatforms({ buildArgs: arg('True') })).toEqual([hostPlatform()]);
    expect(indexPlatforms({ buildArgs: arg('true'), platforms: [AMD64, ARM64] })).toEqual([AMD64, ARM64]);
    expect(indexPlatforms({ buildArgs: arg('false'), platform: ARM64 })).toEqual([]);
    expect(indexPlatforms({ buildArgs: arg(''), platforms: [AMD64, ARM64] })).toEqual([AMD64, ARM64]);
  });

  it("refuses what BuildKit refuses, with its messages", () => {
    expect(() => indexPlatforms({ buildArgs: arg('yes') })).toThrow('invalid boolean value for multi-platform: yes');
    expect(() => indexPlatforms({ buildArgs: arg('0'), platforms: [AMD64, ARM64] })).toThrow('conflicting config: returning multiple target platforms is not allowed');
  });
});
