import { describe, expect, it } from 'vitest';
import { digestOf } from '../../../base/digest.js';
import { captureProvenance, ImageResolutions } from '../../../controller/provenance-capture.js';
import type { BuildRequest } from '../../../controller/index.js';
import { provenancePredicate } from '../../../exporter/lazy.js';
import { createVertex } from '../../../solver/graph/index.js';

const AMD64 = { os: 'linux', architecture: 'amd64' };
const MANIFEST = digestOf('platform manifest');
const INDEX = digestOf('index');
const COMMIT = '4b220de5058abfd01ff619c9d2ff6b09a049bea0';
const PINNED = `docker.io/library/busybox:latest@${MANIFEST}`;

function graph(): ReturnType<typeof createVertex> {
  const base = createVertex({ kind: 'source', source: { type: 'image', ref: PINNED }, platform: AMD64 }, [], { name: 'FROM busybox', location: { file: 'Dockerfile', startLine: 1, endLine: 1 } });
  const git = createVertex({ kind: 'source', source: { type: 'git', remote: 'https://user:pw@example.com/repo.git', ref: 'v1', subdir: '', keepGitDir: false }, platform: AMD64 }, [], { name: 'ADD git' });
  const run = createVertex(
    {
      kind: 'exec',
      meta: { args: ['sh', '-c', 'make'], env: [], cwd: '/', user: '' },
      mounts: [
        { type: 'bind', input: 0, dest: '/', output: 0, readonly: false },
        { type: 'bind', input: 1, dest: '/src', output: null, readonly: true },
        { type: 'secret', id: 'token', dest: '/run/secrets/token', required: false, mode: 0o400, uid: 0, gid: 0 },
      ],
      network: 'none',
      security: 'sandbox',
      platform: AMD64,
      proxyEnv: { httpProxy: 'http://user:secret@proxy:3128' },
    },
    [
      { vertex: base, output: 0 },
      { vertex: git, output: 0 },
    ],
    { name: 'RUN make', location: { file: 'Dockerfile', startLine: 3, endLine: 3 } },
  );
  return run;
}

const REQUEST: BuildRequest = {
  context: { kind: 'folder', dir: '/ctx' },
  dockerfile: { name: 'build.Dockerfile', bytes: Buffer.from('FROM busybox') },
  buildArgs: new Map([['FOO', 'bar']]),
  target: 'final',
  outputs: [],
  noCache: false,
  noCacheFilter: ['deps'],
  labels: { team: 'x' },
  buildContexts: [
    { name: 'tools', type: 'image', ref: 'alpine' },
    { name: 'src', type: 'url', url: 'https://user:pw@example.com/src.git' },
    { name: 'local', type: 'local', path: '/elsewhere' },
  ],
};

describe('captureProvenance', () => {
  const images = new ImageResolutions();
  images.add('docker.io/library/busybox:latest', MANIFEST, INDEX, []);
  const input = { root: graph(), dockerfile: Buffer.from('FROM busybox'), dockerfileName: 'build.Dockerfile', contextOrigin: undefined, images, startedOn: new Date(0) };

  it('records the options as buildx sends them, the sources each step pinned and the secrets RUNs mounted', () => {
    const root = input.root;
    const gitVertex = root.inputs[1]?.vertex.digest ?? '';
    const c = captureProvenance({ ...input, request: REQUEST, pins: new Map([[gitVertex, { type: 'git', commit: COMMIT }]]) });
    expect(c.args).toEqual({
      'build-arg:FOO': 'bar',
      'label:team': 'x',
      target: 'final',
      'no-cache': 'deps',
      'context:tools': 'docker-image://alpine',
      'context:src': 'https://xxxxx:xxxxx@example.com/src.git',
      'context:local': 'local:local',
    });
    expect(c.configSource).toEqual({ entryPoint: 'build.Dockerfile' });
    expect(c.locals).toEqual(['context', 'dockerfile', 'local']);
    // The image by the digest its tag named (the index), not the platform manifest the graph pins.
    expect(c.images).toEqual([{ ref: 'docker.io/library/busybox:latest', digest: INDEX, platform: AMD64 }]);
    expect(c.git).toEqual([{ url: 'https://user:pw@example.com/repo.git#v1', commit: COMMIT }]);
    expect(c.secrets).toEqual([{ id: 'token', optional: true }]);
    expect(c.networkAccess).toBe(false);
    expect(c.steps.map((s) => s.digest)).toEqual([root.inputs[0]?.vertex.digest, gitVertex, root.digest]);
    // Proxy settings may carry credentials: the recorded op leaves them out.
    expect(JSON.stringify(c.steps[2]?.op)).not.toContain('proxy');
    const p = provenancePredicate(c, { mode: 'max', finishedOn: new Date(1000) });
    expect(p.materials?.[1]).toEqual({ uri: 'https://xxxxx:xxxxx@example.com/repo.git#v1', digest: { sha1: COMMIT } });
  });

  it('names an OCI layout context as buildx sends it: the layout by the context name, with the digest its image was found at', () => {
    const request: BuildRequest = {
      ...REQUEST,
      buildContexts: [
        { name: 'bytag', type: 'oci-layout', path: '/layouts/a', tag: 'v1' },
        { name: 'bydigest', type: 'oci-layout', path: '/layouts/b', digest: INDEX },
      ],
    };
    const c = captureProvenance({ ...input, request, pins: new Map(), layoutDigests: new Map([['bytag', MANIFEST], ['bydigest', INDEX]]) });
    expect(c.args['context:bytag']).toBe(`oci-layout://bytag:v1@${MANIFEST}`);
    expect(c.args['context:bydigest']).toBe(`oci-layout://bydigest@${INDEX}`);
    // The client's folders are not recorded.
    expect(JSON.stringify(c.args)).not.toContain('/layouts');
  });

  it('makes a context fetched from a URL the config source and a material, with no local folder', () => {
    const request: BuildRequest = { ...REQUEST, buildContexts: [] };
    const c = captureProvenance({ ...input, contextOrigin: { type: 'git', url: 'https://example.com/app.git#main', commit: COMMIT }, request, pins: new Map() });
    expect(c.configSource).toEqual({ uri: 'https://example.com/app.git#main', digest: { sha1: COMMIT }, entryPoint: 'build.Dockerfile' });
    expect(c.locals).toEqual([]);
    expect(c.git).toEqual([{ url: 'https://example.com/app.git#main', commit: COMMIT }]);
    const p = provenancePredicate({ ...c, networkAccess: false }, { mode: 'min', finishedOn: new Date(1000) });
    expect(p.metadata).toMatchObject({ completeness: { materials: true }, 'https://mobyproject.org/buildkit@v1#hermetic': true });
    // A folder of the repository is the config source; the material is the repository at its ref.
    const sub = captureProvenance({ ...input, contextOrigin: { type: 'git', url: 'https://example.com/app.git#v1:src', commit: COMMIT }, request, pins: new Map() });
    expect(sub.configSource.uri).toBe('https://example.com/app.git#v1:src');
    expect(sub.git).toEqual([{ url: 'https://example.com/app.git#v1', commit: COMMIT }]);
    const noRef = captureProvenance({ ...input, contextOrigin: { type: 'git', url: 'https://example.com/app.git#:src', commit: COMMIT }, request, pins: new Map() });
    expect(noRef.git).toEqual([{ url: 'https://example.com/app.git', commit: COMMIT }]);
  });
});
