import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../base/errors.js';
import { checkMediaTypes } from '../../../controller/media-types.js';
import type { AttestationSpec, OutputSpec } from '../../../controller/index.js';

const docker = { compression: 'gzip', forceCompression: false, ociMediaTypes: false } as const;
const DEFAULT_PROVENANCE: AttestationSpec = { type: 'provenance', mode: 'min', version: 'v1', inlineOnly: true };
const SBOM: AttestationSpec = { type: 'sbom' };

describe('checkMediaTypes', () => {
  it('refuses attestations an output of Docker media types would carry, as BuildKit does', () => {
    const push: OutputSpec = { type: 'image', names: ['r/x'], push: true, image: docker };
    const oci: OutputSpec = { type: 'oci', dest: 'o.tar', names: [], image: docker };
    for (const [outputs, attestations] of [
      [[push], [DEFAULT_PROVENANCE]],
      [[oci], [SBOM]],
    ] as const) {
      expect(() => checkMediaTypes({ outputs, attestations }), outputs[0]?.type).toThrow(UsageError);
      expect(() => checkMediaTypes({ outputs, attestations })).toThrow(/Cannot export attestations with oci-mediatypes=false/);
    }
    // What takes none passes: the default provenance goes to pushes only; the store, docker archives and Docker none.
    const untouched: OutputSpec[] = [oci, { type: 'image', names: ['x'], push: false, image: docker }, { type: 'docker', dest: 'd.tar', names: [], image: docker }, { type: 'load', names: [], image: docker }];
    expect(() => checkMediaTypes({ outputs: untouched, attestations: [DEFAULT_PROVENANCE] })).not.toThrow();
    expect(() => checkMediaTypes({ outputs: [push] })).not.toThrow();
    expect(() => checkMediaTypes({ outputs: [{ ...push, image: { ...docker, ociMediaTypes: true } }], attestations: [SBOM] })).not.toThrow();
  });

  it('refuses index annotations with Docker media types, and takes manifest ones', () => {
    const annotated = (index: Record<string, string>): OutputSpec => ({ type: 'oci', dest: 'o', names: [], image: { ...docker, annotations: { manifest: { m: '1' }, index } } });
    expect(() => checkMediaTypes({ outputs: [annotated({ i: '1' })] })).toThrow(/Cannot export index annotations with oci-mediatypes=false/);
    expect(() => checkMediaTypes({ outputs: [annotated({})] })).not.toThrow();
  });
});
