import { describe, expect, it } from 'vitest';
import { encodeGoJson, goMap } from '../../../base/go-json.js';
import { goDescriptor, goImage, goIndex, goTime } from '../../../base/go-oci.js';

describe("Go's encoding/json output", () => {
  it('indents as MarshalIndent, keeps struct field order, sorts map keys and leaves out undefined fields', () => {
    const value = { b: 1, a: goMap({ z: 'x', '10': 'y', '9': 'w' }), skipped: undefined, list: [], empty: {}, nil: null };
    expect(encodeGoJson(value, '  ')).toBe('{\n  "b": 1,\n  "a": {\n    "10": "y",\n    "9": "w",\n    "z": "x"\n  },\n  "list": [],\n  "empty": {},\n  "nil": null\n}');
    expect(encodeGoJson([1, 'x'])).toBe('[1,"x"]');
  });

  it('escapes <, >, &, U+2028 and U+2029 as Go does', () => {
    expect(encodeGoJson('a && b <c> \u2028\u2029 "q" \n')).toBe('"a \\u0026\\u0026 b \\u003cc\\u003e \\u2028\\u2029 \\"q\\" \\n"');
  });
});

describe('image-spec documents as Go marshals them', () => {
  it('orders descriptor and platform fields as the Go types do and drops unknown fields', () => {
    const d = { platform: { variant: 'v8', os: 'linux', architecture: 'arm64', extra: 1 }, size: 3, digest: 'sha256:x', mediaType: 'm', annotations: {}, unknown: true };
    expect(encodeGoJson(goDescriptor(d))).toBe('{"mediaType":"m","digest":"sha256:x","size":3,"platform":{"architecture":"arm64","os":"linux","variant":"v8"}}');
    expect(encodeGoJson(goIndex({ mediaType: 'i', manifests: [] }))).toBe('{"schemaVersion":2,"mediaType":"i","manifests":[]}');
  });

  it('writes an image config with the OCI fields only (no Healthcheck, OnBuild or Shell) and an empty config object', () => {
    const image = goImage({
      os: 'linux',
      architecture: 'amd64',
      created: '2024-01-02T03:04:05.500000000Z',
      config: { Healthcheck: { Test: ['NONE'] }, Shell: ['/bin/sh'], Env: ['A=1'], Labels: { b: '2', a: '1' } },
      rootfs: { type: 'layers', diff_ids: ['sha256:d'] },
    });
    expect(encodeGoJson(image)).toBe(
      '{"created":"2024-01-02T03:04:05.5Z","architecture":"amd64","os":"linux","config":{"Env":["A=1"],"Labels":{"a":"1","b":"2"}},"rootfs":{"type":"layers","diff_ids":["sha256:d"]}}',
    );
    expect(encodeGoJson(goImage({ os: 'linux', architecture: 'amd64', rootfs: { type: 'layers' } }))).toBe('{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":null}}');
  });

  it('re-renders times as time.Time marshals them', () => {
    expect(goTime('2024-01-02T03:04:05Z')).toBe('2024-01-02T03:04:05Z');
    expect(goTime('2024-01-02T03:04:05.000Z')).toBe('2024-01-02T03:04:05Z');
    expect(goTime('2024-01-02T03:04:05.1234567891+00:00')).toBe('2024-01-02T03:04:05.123456789Z');
    expect(goTime('2024-01-02T03:04:05.120+02:00')).toBe('2024-01-02T03:04:05.12+02:00');
  });
});
