import { describe, expect, it } from 'vitest';
import type { BuildRequest } from '../../../controller/index.js';
import { attestationsMsg, attestationsRequest, contextOriginOf, contextSourceMsg } from '../../../remote/attestation-msg.js';

const base: BuildRequest = { context: { kind: 'folder', dir: '/c' }, dockerfile: { inContext: null }, buildArgs: new Map(), outputs: [], noCache: false, noCacheFilter: [] };

describe('attestations on the wire', () => {
  it('carries each attestation and the default provenance as the client resolved them', () => {
    const request: BuildRequest = {
      ...base,
      attestations: [{ type: 'sbom' }, { type: 'provenance', mode: 'max', builderId: 'https://ci/1', reproducible: true, version: 'v1' }, { type: 'provenance', mode: 'min', inlineOnly: true }],
    };
    expect(attestationsRequest(attestationsMsg(request))).toEqual({ attestations: request.attestations });
    expect(attestationsRequest([])).toEqual({});
    expect(() => attestationsRequest([{ type: 'vex', mode: '', builderId: '', reproducible: false, inlineOnly: false, version: '' }])).toThrow(/type "vex"/);
    expect(() => attestationsRequest([{ type: 'provenance', mode: 'all', builderId: '', reproducible: false, inlineOnly: false, version: '' }])).toThrow(/mode "all"/);
  });

  it('carries where a fetched context came from', () => {
    for (const origin of [
      { type: 'git', url: 'https://example.com/app.git#main', commit: 'abc' },
      { type: 'http', url: 'https://example.com/ctx.tar', digest: 'sha256:0' },
    ] as const) {
      expect(contextOriginOf(contextSourceMsg(origin))).toEqual({ origin });
    }
    expect(contextSourceMsg(undefined)).toBeUndefined();
    expect(contextOriginOf(undefined)).toEqual({});
  });
});
