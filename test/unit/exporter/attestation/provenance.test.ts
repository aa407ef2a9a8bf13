import { describe, expect, it } from 'vitest';
import { digestOf } from '../../../../base/digest.js';
import { MEDIA_TYPES } from '../../../../base/oci.js';
import { goTime, imagePackageUrl, imageSubjects, makeStatement, provenancePredicate, provenanceV1, type ProvenanceCapture } from '../../../../exporter/attestation/index.js';

const BASE = digestOf('busybox index');
const AMD64 = { os: 'linux', architecture: 'amd64' };
const SOURCE = { digest: 'sha256:source', op: { kind: 'source', source: { type: 'image', ref: 'docker.io/library/busybox:latest@sha256:x' } }, inputs: [], location: { file: 'Dockerfile', startLine: 1, endLine: 1 } };
const RUN = {
  digest: 'sha256:run',
  op: { kind: 'exec', meta: { args: ['/bin/sh', '-c', 'echo ok > /foo'] } },
  inputs: [{ digest: 'sha256:source', output: 0 }],
  location: { file: 'Dockerfile', startLine: 3, endLine: 4 },
};

const CAPTURE: ProvenanceCapture = {
  args: { 'build-arg:FOO': 'bar', 'label:lbl': 'abc', target: 'final', 'context:foo': 'docker-image://alpine' },
  configSource: { entryPoint: 'Dockerfile' },
  locals: ['context', 'dockerfile'],
  images: [{ ref: 'docker.io/library/busybox:latest', platform: AMD64, digest: BASE }],
  git: [{ url: 'https://github.com/moby/buildkit.git#v0.11.0', commit: '4b220de5058abfd01ff619c9d2ff6b09a049bea0' }],
  http: [{ url: 'https://example.com/a.tar', digest: digestOf('a.tar') }],
  secrets: [{ id: 'token', optional: false }, { id: 'maybe', optional: true }],
  ssh: [{ id: 'default', optional: false }],
  networkAccess: true,
  steps: [SOURCE, RUN],
  dockerfile: { name: 'Dockerfile', data: Buffer.from('FROM busybox\n\nRUN echo ok \\\n  > /foo\n') },
  builderPlatform: AMD64,
  vcs: {},
  invocationId: 'inv123',
  startedOn: new Date('2024-05-01T10:00:00.120Z'),
};
const FINISHED = new Date('2024-05-01T10:00:03Z');

describe('provenancePredicate', () => {
  it('mode=min records the frontend, options without build args and labels, materials and times', () => {
    const p = provenancePredicate(CAPTURE, { mode: 'min', finishedOn: FINISHED });
    expect(Object.keys(p)).toEqual(['builder', 'buildType', 'materials', 'invocation', 'metadata']);
    expect(p.builder).toEqual({ id: '' });
    expect(p.buildType).toBe('https://mobyproject.org/buildkit@v1');
    expect(p.materials).toEqual([
      { uri: 'pkg:docker/busybox@latest?platform=linux%2Famd64', digest: { sha256: BASE.slice(7) } },
      { uri: 'https://github.com/moby/buildkit.git#v0.11.0', digest: { sha1: '4b220de5058abfd01ff619c9d2ff6b09a049bea0' } },
      { uri: 'https://example.com/a.tar', digest: { sha256: digestOf('a.tar').slice(7) } },
    ]);
    expect(p.invocation).toEqual({
      configSource: { entryPoint: 'Dockerfile' },
      parameters: { frontend: 'dockerfile.v0', args: { 'context:foo': 'docker-image://alpine', target: 'final' }, locals: [{ name: 'context' }, { name: 'dockerfile' }] },
      environment: { platform: 'linux/amd64' },
    });
    expect(p.buildConfig).toBeUndefined();
    expect(p.metadata).toEqual({
      buildInvocationID: 'inv123',
      buildStartedOn: '2024-05-01T10:00:00.12Z',
      buildFinishedOn: '2024-05-01T10:00:03Z',
      // Build args were left out, and a local context is no tracked material: both are incomplete.
      completeness: { parameters: false, environment: true, materials: false },
      'https://mobyproject.org/buildkit@v1#metadata': {},
    });
  });

  it('mode=min is complete in its parameters when the build had no build args or labels', () => {
    const p = provenancePredicate({ ...CAPTURE, args: { target: 'x' } }, { mode: 'min', finishedOn: FINISHED });
    expect(p.metadata['completeness']).toEqual({ parameters: true, environment: true, materials: false });
  });

  it('mode=max adds build args, secret and ssh ids, the graph, the Dockerfile with step lines, and layers', () => {
    const layer = { mediaType: MEDIA_TYPES.ociLayerGzip, digest: digestOf('base layer'), size: 10, annotations: { x: 'y' } };
    const runLayer = { mediaType: MEDIA_TYPES.ociLayerGzip, digest: digestOf('run layer'), size: 20 };
    const layers = new Map([
      ['sha256:source', [layer]],
      ['sha256:run', [layer, runLayer]],
    ]);
    const p = provenancePredicate(CAPTURE, { mode: 'max', finishedOn: FINISHED, builderId: 'https://ci.example/run/1', reproducible: true, layers });
    expect(p.builder.id).toBe('https://ci.example/run/1');
    expect(p.invocation.parameters).toMatchObject({
      args: { 'build-arg:FOO': 'bar', 'context:foo': 'docker-image://alpine', 'label:lbl': 'abc', target: 'final' },
      secrets: [{ id: 'token' }, { id: 'maybe', optional: true }],
      ssh: [{ id: 'default' }],
    });
    expect(p.buildConfig).toEqual({
      llbDefinition: [
        { id: 'step0', op: SOURCE.op },
        { id: 'step1', op: RUN.op, inputs: ['step0:0'] },
        { id: 'step2', inputs: ['step1:0'] },
      ],
      digestMapping: { 'sha256:run': 'step1', 'sha256:source': 'step0' },
    });
    expect(p.metadata).toMatchObject({ completeness: { parameters: true }, reproducible: true });
    const meta = p.metadata['https://mobyproject.org/buildkit@v1#metadata'];
    expect(meta).toEqual({
      source: {
        locations: {
          step0: { locations: [{ ranges: [{ start: { line: 1 }, end: { line: 1 } }] }] },
          step1: { locations: [{ ranges: [{ start: { line: 3 }, end: { line: 3 } }, { start: { line: 4 }, end: { line: 4 } }] }] },
        },
        infos: [{ filename: 'Dockerfile', language: 'Dockerfile', data: Buffer.from('FROM busybox\n\nRUN echo ok \\\n  > /foo\n').toString('base64') }],
      },
      layers: {
        'step0:0': [[{ mediaType: layer.mediaType, digest: layer.digest, size: 10 }]],
        'step1:0': [[{ mediaType: layer.mediaType, digest: layer.digest, size: 10 }, runLayer]],
      },
    });
  });

  it('records the git checkout of the context (credentials masked) and the Dockerfile frontend version, in both forms', () => {
    const vcs = { source: 'https://user:pass@example.com/repo.git', revision: 'abc123', 'localdir:context': '.', 'localdir:dockerfile': 'sub' };
    const p = provenancePredicate({ ...CAPTURE, vcs }, { mode: 'min', finishedOn: FINISHED, dockerfileVersion: '1.2.3' });
    const recorded = { 'localdir:context': '.', 'localdir:dockerfile': 'sub', revision: 'abc123', source: 'https://xxxxx:xxxxx@example.com/repo.git' };
    expect(p.metadata['https://mobyproject.org/buildkit@v1#metadata']).toEqual({ vcs: recorded });
    expect(p.invocation.environment).toEqual({ platform: 'linux/amd64', dockerfileVersion: '1.2.3' });
    const v1 = provenanceV1(p);
    expect(v1.buildDefinition.internalParameters).toEqual({ builderPlatform: 'linux/amd64', dockerfileVersion: '1.2.3' });
    expect(v1.runDetails.metadata['buildkit_metadata']).toEqual({ vcs: recorded });
    // A build outside a checkout records none.
    expect(provenancePredicate(CAPTURE, { mode: 'min', finishedOn: FINISHED }).metadata['https://mobyproject.org/buildkit@v1#metadata']).toEqual({});
  });

  it('is hermetic only with tracked materials and no network access', () => {
    const p = provenancePredicate({ ...CAPTURE, locals: [], networkAccess: false }, { mode: 'min', finishedOn: FINISHED });
    expect(p.metadata).toMatchObject({ completeness: { materials: true }, 'https://mobyproject.org/buildkit@v1#hermetic': true });
  });
});

describe('provenanceV1', () => {
  it('moves the v0.2 members where SLSA v1 has them, as BuildKit converts them', () => {
    const v02 = provenancePredicate({ ...CAPTURE, configSource: { uri: 'https://example.com/r.git#main', digest: { sha1: 'abc' }, entryPoint: 'Dockerfile' } }, { mode: 'max', finishedOn: FINISHED, reproducible: true });
    const v1 = provenanceV1(v02);
    expect(v1.buildDefinition).toMatchObject({
      buildType: 'https://github.com/moby/buildkit/blob/master/docs/attestations/slsa-definitions.md',
      externalParameters: { configSource: { uri: 'https://example.com/r.git#main', digest: { sha1: 'abc' }, path: 'Dockerfile' }, request: v02.invocation.parameters },
      internalParameters: { buildConfig: v02.buildConfig, builderPlatform: 'linux/amd64' },
      resolvedDependencies: v02.materials,
    });
    expect(v1.runDetails).toEqual({
      builder: { id: '' },
      metadata: {
        invocationID: 'inv123',
        startedOn: '2024-05-01T10:00:00.12Z',
        finishedOn: '2024-05-01T10:00:03Z',
        buildkit_metadata: v02.metadata['https://mobyproject.org/buildkit@v1#metadata'],
        buildkit_completeness: { request: true, resolvedDependencies: false },
        buildkit_reproducible: true,
      },
    });
  });
});

describe('statements', () => {
  it('names the image once per name as a package URL with its platform, and writes members in BuildKit order', () => {
    const manifest = digestOf('manifest');
    const subjects = imageSubjects(['127.0.0.1:5000/team/app:v1', 'docker.io/library/app:latest'], manifest, { os: 'linux', architecture: 'arm', variant: 'v7' });
    expect(subjects).toEqual([
      { name: 'pkg:docker/127.0.0.1%3A5000/team/app@v1?platform=linux%2Farm%2Fv7', digest: { sha256: manifest.slice(7) } },
      { name: 'pkg:docker/app@latest?platform=linux%2Farm%2Fv7', digest: { sha256: manifest.slice(7) } },
    ]);
    const stmt = makeStatement('https://slsa.dev/provenance/v0.2', { x: 1 }, subjects);
    expect(Object.keys(stmt)).toEqual(['_type', 'predicateType', 'subject', 'predicate']);
    expect(stmt._type).toBe('https://in-toto.io/Statement/v1');
  });

  it('writes image package URLs as BuildKit does, with a digest qualifier for pinned references', () => {
    expect(imagePackageUrl('alpine')).toBe('pkg:docker/alpine@latest');
    expect(imagePackageUrl(`alpine@${digestOf('x')}`)).toBe(`pkg:docker/alpine?digest=${digestOf('x')}`);
    expect(imagePackageUrl('ghcr.io/org/tool:1.2', { os: 'linux', architecture: 'amd64' })).toBe('pkg:docker/ghcr.io/org/tool@1.2?platform=linux%2Famd64');
  });

  it('writes times as Go does', () => {
    expect(goTime(new Date('2024-01-01T00:00:00.000Z'))).toBe('2024-01-01T00:00:00Z');
    expect(goTime(new Date('2024-01-01T00:00:00.500Z'))).toBe('2024-01-01T00:00:00.5Z');
  });
});
