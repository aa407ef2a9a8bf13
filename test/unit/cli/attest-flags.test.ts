import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../base/errors.js';
import { parseAttestations } from '../../../cli/attest-flags.js';
import { parseBuildCommand } from '../../../cli/build-command.js';
import { parseOutput } from '../../../cli/output-spec.js';

const none = { attest: [], provenance: undefined, sbom: undefined };
const DEFAULT = { type: 'provenance', mode: 'min', version: 'v1', inlineOnly: true };

describe('parseAttestations', () => {
  it('adds a mode=min provenance for pushes by default, as buildx does, unless BUILDX_NO_DEFAULT_ATTESTATIONS is true', () => {
    expect(parseAttestations(none, {})).toEqual([DEFAULT]);
    expect(parseAttestations(none, { BUILDX_NO_DEFAULT_ATTESTATIONS: '1' })).toEqual([]);
    expect(parseAttestations(none, { BUILDX_NO_DEFAULT_ATTESTATIONS: 'false' })).toEqual([DEFAULT]);
    expect(() => parseAttestations(none, { BUILDX_NO_DEFAULT_ATTESTATIONS: 'yes' })).toThrow(UsageError);
  });

  it('reads --provenance as a boolean or attributes; true means BuildKit defaults: mode max, SLSA v1', () => {
    expect(parseAttestations({ ...none, provenance: 'true' }, {})).toEqual([{ type: 'provenance', mode: 'max', version: 'v1' }]);
    expect(parseAttestations({ ...none, provenance: 'T' }, {})).toEqual([{ type: 'provenance', mode: 'max', version: 'v1' }]);
    expect(parseAttestations({ ...none, provenance: '0' }, {})).toEqual([]);
    expect(parseAttestations({ ...none, provenance: 'false' }, {})).toEqual([]);
    expect(parseAttestations({ ...none, provenance: 'mode=min,builder-id=https://ci/1,reproducible=true' }, {})).toEqual([
      { type: 'provenance', mode: 'min', builderId: 'https://ci/1', reproducible: true, version: 'v1' },
    ]);
    expect(parseAttestations({ ...none, provenance: 'mode=full' }, {})).toEqual([{ type: 'provenance', mode: 'max', version: 'v1' }]);
    expect(parseAttestations({ ...none, provenance: 'mode=min,version=v1' }, {})).toEqual([{ type: 'provenance', mode: 'min', version: 'v1' }]);
    expect(parseAttestations({ ...none, provenance: 'version=v0.2' }, {})).toEqual([{ type: 'provenance', mode: 'max' }]);
  });

  it('reads --sbom and --attest, the first one of a type winning as in buildx, and keeps the default provenance beside an SBOM', () => {
    expect(parseAttestations({ ...none, sbom: 'true' }, {})).toEqual([{ type: 'sbom' }, DEFAULT]);
    // --attest comes before --provenance, so it wins over it.
    expect(parseAttestations({ attest: ['type=sbom', 'type=provenance,mode=max'], provenance: 'false', sbom: undefined }, {})).toEqual([{ type: 'sbom' }, { type: 'provenance', mode: 'max', version: 'v1' }]);
    expect(parseAttestations({ attest: ['type=provenance,mode=min', 'type=provenance,disabled=true'], provenance: undefined, sbom: undefined }, {})).toEqual([{ type: 'provenance', mode: 'min', version: 'v1' }]);
    expect(parseAttestations({ attest: ['type=provenance,disabled=true', 'type=provenance,mode=max'], provenance: undefined, sbom: undefined }, {})).toEqual([]);
    expect(parseAttestations({ ...none, attest: ['type=sbom,generator=docker/buildkit-syft-scanner:stable-1'] }, {})).toEqual([{ type: 'sbom' }, DEFAULT]);
  });

  it('refuses unknown types, modes, versions and scanner images', () => {
    expect(() => parseAttestations({ ...none, attest: ['type=vex'] }, {})).toThrow(/unknown attestation type "vex"/);
    expect(() => parseAttestations({ ...none, attest: ['mode=max'] }, {})).toThrow(/attestation type not specified/);
    expect(() => parseAttestations({ ...none, provenance: 'mode=all' }, {})).toThrow(/invalid mode "all"/);
    expect(() => parseAttestations({ ...none, provenance: 'version=v2' }, {})).toThrow(/version "v2" is not supported/);
    expect(() => parseAttestations({ ...none, attest: ['type=sbom,generator=example/scanner'] }, {})).toThrow(/generator image "example\/scanner" is not supported/);
  });

  it('reaches the request from the command line', () => {
    const cmd = parseBuildCommand(['--attest', 'type=sbom', '--provenance', 'mode=max', '.'], { cwd: '/w', env: {} });
    expect(cmd.request.attestations).toEqual([{ type: 'sbom' }, { type: 'provenance', mode: 'max', version: 'v1' }]);
  });
});

describe('attestation output attributes', () => {
  it('reads oci-artifact and attestation-referrers, refusing referrers without the artifact form', () => {
    const out = parseOutput('type=registry,name=r/x,oci-artifact=false', []);
    expect(out.type === 'image' ? out.image.ociArtifact : undefined).toBe(false);
    const refs = parseOutput('type=image,name=r/x,push=true,attestation-referrers=true', []);
    expect(refs.type === 'image' ? refs.image.referrers : undefined).toBe(true);
    expect(() => parseOutput('type=registry,name=r/x,oci-artifact=false,attestation-referrers=true', [])).toThrow(/attestation-referrers=true with oci-artifact=false/);
  });
});
