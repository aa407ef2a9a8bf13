// Ported from moby/buildkit frontend/dockerfile/dockerfile_provenance_test.go (the builds of a Dockerfile; the exports
// to local and tar outputs are in provenance-export.test.ts): each case names its test function. BuildKit's
// "attest:provenance" frontend attribute is `--attest type=provenance,...`; its build-arg:, label:, filename and
// context:NAME attributes are --build-arg, --label, -f and --build-context; its "vcs:source" and "vcs:revision" are what
// tbuild reads from the git checkout of the context, as buildx sends them. Images are pushed to the suite's loopback
// registry and read back from there (BuildKit's testutil.ReadImages). BuildKit's daemon reports the Dockerfile
// frontend's version; tbuild's frontend is part of tbuild, whose version `tbuild version` prints. BuildKit's busybox is
// an index of several platforms: builds of several platforms use the fixture's multi-platform busybox under that name.
import { describe, expect } from 'vitest';
import { seedMultiarchBusybox } from '../../fixtures/multiarch-busybox.js';
import { run, runTbuild } from '../../helpers/cli.js';
import { buildkitSuite, ok, type BuildkitSuite } from './harness.js';
import { serveDir } from './fixtures.js';
import { readImages, statementOf, type Material, type PushedImage, type PushedImages, type ProvenanceV02, type ProvenanceV1 } from './provenance-images.js';

const HOST = 'linux/amd64';
const IN_TOTO_V1 = 'https://in-toto.io/Statement/v1';
const BUILD_TYPE_V1 = 'https://github.com/moby/buildkit/blob/master/docs/attestations/slsa-definitions.md';

/** push builds a context and pushes it as repo:tag of the suite's registry, returning what the registry holds. */
async function push(suite: BuildkitSuite, dir: string, repo: string, args: readonly string[]): Promise<PushedImages> {
  const res = await suite.build({ dir, output: 'none', args: ['--output', `type=image,name=${suite.env.registry.host}/${repo}:latest,push=true`, ...args] });
  ok(res);
  return readImages(suite.env.registry.url, repo, 'latest');
}

/** tbuildVersion is what BuildKit's daemon reports as its Dockerfile frontend version: here tbuild's own. */
async function tbuildVersion(): Promise<string> {
  const res = await runTbuild(['version']);
  expect(res.code, res.stderr).toBe(0);
  return res.stdout.trim().replace(/^tbuild /, '');
}

/**
 * attestationOf checks a pushed index holds the host's image, whose RUN wrote /foo, and its attestation manifest, and
 * returns that manifest.
 */
function attestationOf(imgs: PushedImages, foo: string): PushedImage | undefined {
  expect(imgs.images).toHaveLength(2);
  const img = imgs.find(HOST);
  expect(img?.layers[1]?.get('foo')?.data.toString()).toBe(foo);
  const att = imgs.find('unknown/unknown');
  expect(att?.desc.annotations?.['vnd.docker.reference.digest']).toBe(img?.desc.digest);
  expect(att?.desc.annotations?.['vnd.docker.reference.type']).toBe('attestation-manifest');
  return att;
}

/** recent checks a predicate time is set, within the last five minutes. */
function recent(time: string | undefined): number {
  expect(time).toBeDefined();
  const t = Date.parse(time ?? '');
  expect(Date.now() - t).toBeLessThan(5 * 60 * 1000);
  return t;
}

/**
 * expectRequestArgs checks the frontend options testProvenanceAttestation records: mode=max keeps the build arg and
 * label and is complete; mode=min leaves them out and says so. The named context's URL is there with its credentials
 * masked.
 */
function expectRequestArgs(recorded: Record<string, string> | undefined, complete: boolean, max: boolean): void {
  const args = recorded ?? {};
  expect(complete).toBe(max);
  expect(Object.keys(args)).toHaveLength(max ? 3 : 1);
  if (max) expect([args['build-arg:FOO'], args['label:lbl']]).toEqual(['bar', 'abc']);
  expect(args['context:foo']).toBe('https://xxxxx:xxxxx@example.invalid/foo.html');
}

describe('BuildKit dockerfile_provenance_test.go', () => {
  const suite = buildkitSuite('dockerfile_provenance_test.go');
  const { context, port } = suite;

  // dockerfile_provenance_test.go testProvenanceAttestation: the builtin Dockerfile frontend's expectations. The
  // custom environment of BuildKit's provenanceEnvDir setting is left out (see NOT-PORTED.md), as for dockerd.
  for (const slsaVersion of ['', 'v1', 'v0.2']) {
    for (const mode of ['', 'min', 'max']) {
      const variant = [slsaVersion, mode].filter((s) => s !== '').join('-');
      port(
        'testProvenanceAttestation',
        async () => {
          const dockerfile = '\nFROM busybox:latest\nRUN echo "ok" > /foo\n';
          const dir = await context({ Dockerfile: dockerfile });
          for (const args of [['init', '-q'], ['remote', 'add', 'origin', 'https://user:pass@example.invalid/repo.git'], ['-c', 'user.email=t@e', '-c', 'user.name=t', 'commit', '-q', '--allow-empty', '-m', 'initial']]) {
            const r = await run('git', ['-C', dir, ...args]);
            expect(r.code, r.stderr).toBe(0);
          }
          const revision = (await run('git', ['-C', dir, 'rev-parse', 'HEAD'])).stdout.trim();
          const attrs = [slsaVersion === '' ? [] : [`version=${slsaVersion}`], mode === '' ? [] : [`mode=${mode}`]].flat();
          const imgs = await push(suite, dir, `buildkit/testwithprovenance-${variant || 'none'}`, [
            '--attest', ['type=provenance', ...attrs].join(','),
            '--build-arg', 'FOO=bar',
            '--label', 'lbl=abc',
            '-f', `${dir}/Dockerfile`,
            '--build-context', 'foo=https://foo:bar@example.invalid/foo.html',
          ]);
          const att = attestationOf(imgs, 'ok\n');
          const max = mode === 'max' || mode === '';
          const version = await tbuildVersion();
          const expectedBase = `pkg:docker/busybox@latest?platform=${encodeURIComponent(HOST)}`;
          if (slsaVersion === '' || slsaVersion === 'v1') {
            const stmt = statementOf<ProvenanceV1>(att?.layersRaw[0]);
            expect(stmt._type).toBe(IN_TOTO_V1);
            expect(stmt.predicateType).toBe('https://slsa.dev/provenance/v1');
            const { buildDefinition: def, runDetails: run } = stmt.predicate;
            expect(def.buildType).toBe(BUILD_TYPE_V1);
            expect(run.builder.id).toBe('');
            expect(def.externalParameters.configSource.uri ?? '').toBe('');
            expect(def.internalParameters.provenanceCustomEnv ?? {}).toEqual({});
            expect(def.externalParameters.request.frontend).toBe('dockerfile.v0');
            expectRequestArgs(def.externalParameters.request.args, run.metadata.buildkit_completeness.request, max);
            expect(def.resolvedDependencies).toHaveLength(1);
            expect(def.resolvedDependencies?.[0]?.uri).toBe(expectedBase);
            expect(def.resolvedDependencies?.[0]?.digest?.['sha256']).toMatch(/^[0-9a-f]{64}$/);
            expect(def.externalParameters.configSource.path).toBe('Dockerfile');
            expect(run.metadata.buildkit_metadata?.vcs?.['source']).toBe('https://xxxxx:xxxxx@example.invalid/repo.git');
            expect(run.metadata.buildkit_metadata?.vcs?.['revision']).toBe(revision);
            expect(run.metadata.invocationID).not.toBe('');
            expect(def.externalParameters.request.locals?.map((l) => l.name)).toEqual(['context', 'dockerfile']);
            expect(recent(run.metadata.startedOn)).toBeLessThan(recent(run.metadata.finishedOn));
            expect(def.internalParameters.builderPlatform).toBe(HOST);
            expect(def.internalParameters.dockerfileVersion).toBe(version);
            expect(run.metadata.buildkit_completeness.resolvedDependencies).toBe(false);
            expect(run.metadata.buildkit_reproducible ?? false).toBe(false);
            expect(run.metadata.buildkit_hermetic ?? false).toBe(false);
            const meta = run.metadata.buildkit_metadata;
            if (max) {
              expect(Object.keys(meta?.layers ?? {})).toHaveLength(2);
              expect(meta?.source?.infos[0]?.filename).toBe('Dockerfile');
              expect(Buffer.from(meta?.source?.infos[0]?.data ?? '', 'base64').toString()).toBe(dockerfile);
              expect(def.internalParameters.buildConfig?.llbDefinition).toHaveLength(3);
            } else {
              expect(Object.keys(meta?.layers ?? {})).toHaveLength(0);
              expect(meta?.source).toBeUndefined();
              expect(def.internalParameters.buildConfig).toBeUndefined();
            }
          } else {
            const stmt = statementOf<ProvenanceV02>(att?.layersRaw[0]);
            expect(stmt._type).toBe(IN_TOTO_V1);
            expect(stmt.predicateType).toBe('https://slsa.dev/provenance/v0.2');
            const pred = stmt.predicate;
            expect(pred.buildType).toBe('https://mobyproject.org/buildkit@v1');
            expect(pred.builder.id).toBe('');
            expect(pred.invocation.configSource.uri ?? '').toBe('');
            expect(pred.invocation.environment.provenanceCustomEnv ?? {}).toEqual({});
            expect(pred.invocation.parameters.frontend).toBe('dockerfile.v0');
            expectRequestArgs(pred.invocation.parameters.args, pred.metadata.completeness.parameters, max);
            expect(pred.invocation.environment.dockerfileVersion).toBe(version);
            expect(pred.materials).toHaveLength(1);
            expect(pred.materials?.[0]?.uri).toBe(expectedBase);
            expect(pred.materials?.[0]?.digest?.['sha256']).toMatch(/^[0-9a-f]{64}$/);
            expect(pred.invocation.configSource.entryPoint).toBe('Dockerfile');
            const meta = pred.metadata['https://mobyproject.org/buildkit@v1#metadata'];
            expect(meta?.vcs?.['source']).toBe('https://xxxxx:xxxxx@example.invalid/repo.git');
            expect(meta?.vcs?.['revision']).toBe(revision);
            expect(pred.metadata.buildInvocationID).not.toBe('');
            expect(pred.invocation.parameters.locals?.map((l) => l.name)).toEqual(['context', 'dockerfile']);
            expect(recent(pred.metadata.buildStartedOn)).toBeLessThan(recent(pred.metadata.buildFinishedOn));
            expect(pred.metadata.completeness.environment).toBe(true);
            expect(pred.invocation.environment.platform).toBe(HOST);
            expect(pred.metadata.completeness.materials).toBe(false);
            expect(pred.metadata.reproducible ?? false).toBe(false);
            expect(pred.metadata['https://mobyproject.org/buildkit@v1#hermetic'] ?? false).toBe(false);
            if (max) {
              expect(Object.keys(meta?.layers ?? {})).toHaveLength(2);
              expect(meta?.source?.infos[0]?.filename).toBe('Dockerfile');
              expect(Buffer.from(meta?.source?.infos[0]?.data ?? '', 'base64').toString()).toBe(dockerfile);
              expect(pred.buildConfig?.llbDefinition).toHaveLength(3);
            } else {
              expect(Object.keys(meta?.layers ?? {})).toHaveLength(0);
              expect(meta?.source).toBeUndefined();
              expect(pred.buildConfig).toBeUndefined();
            }
          }
        },
        variant === '' ? undefined : variant,
      );
    }
  }

  // dockerfile_provenance_test.go testGitProvenanceAttestationSHA1 and testGitProvenanceAttestationSHA256
  for (const [fn, format] of [['testGitProvenanceAttestationSHA1', 'sha1'], ['testGitProvenanceAttestationSHA256', 'sha256']] as const) {
    for (const slsaVersion of ['', 'v1', 'v0.2']) {
      port(fn, () => gitProvenance(suite, format, slsaVersion), slsaVersion === '' ? undefined : slsaVersion);
    }
  }

  // dockerfile_provenance_test.go testMultiPlatformProvenance
  port('testMultiPlatformProvenance', async () => {
    await seedMultiarchBusybox(suite.env.registry.host, 'library/busybox');
    const dir = await context({ Dockerfile: '\nFROM busybox:latest\nARG TARGETARCH\nRUN echo "ok-$TARGETARCH" > /foo\n' });
    const imgs = await push(suite, dir, 'buildkit/testmultiprovenance', ['--attest', 'type=provenance,mode=max', '--build-arg', 'FOO=bar', '--label', 'lbl=abc', '--platform', 'linux/amd64,linux/arm64']);
    expect(imgs.images).toHaveLength(4);
    for (const p of ['linux/amd64', 'linux/arm64']) {
      const img = imgs.find(p);
      expect(img?.layers[1]?.get('foo')?.data.toString()).toBe(`ok-${p.split('/')[1] ?? ''}\n`);
      const att = imgs.findAttestation(p);
      expect(att?.desc.annotations?.['vnd.docker.reference.type']).toBe('attestation-manifest');
      const stmt = statementOf<ProvenanceV1>(att?.layersRaw[0]);
      expect(stmt._type).toBe(IN_TOTO_V1);
      expect(stmt.predicateType).toBe('https://slsa.dev/provenance/v1');
      const def = stmt.predicate.buildDefinition;
      expect(def.buildType).toBe(BUILD_TYPE_V1);
      expect(stmt.predicate.runDetails.builder.id).toBe('');
      expect(def.externalParameters.configSource.uri ?? '').toBe('');
      expect(def.resolvedDependencies).toHaveLength(1);
      expect(def.resolvedDependencies?.[0]?.uri).toContain('pkg:docker/busybox@latest');
      expect(def.resolvedDependencies?.[0]?.uri).toContain(encodeURIComponent(p));
      const args = def.externalParameters.request.args ?? {};
      expect(Object.keys(args)).toHaveLength(2);
      expect(args['build-arg:FOO']).toBe('bar');
      expect(args['label:lbl']).toBe('abc');
    }
  });

  // dockerfile_provenance_test.go testSecretSSHProvenance
  port('testSecretSSHProvenance', async () => {
    const dir = await context({ Dockerfile: '\nFROM busybox:latest\nRUN --mount=type=secret,id=mysecret --mount=type=secret,id=othersecret --mount=type=ssh echo "ok" > /foo\n' });
    const imgs = await push(suite, dir, 'buildkit/testsecretprovenance', ['--attest', 'type=provenance,mode=max']);
    expect(imgs.images).toHaveLength(2);
    expect(imgs.find(HOST)?.layers[1]?.get('foo')?.data.toString()).toBe('ok\n');
    const request = statementOf<ProvenanceV1>(imgs.findAttestation(HOST)?.layersRaw[0]).predicate.buildDefinition.externalParameters.request;
    expect(request.secrets).toEqual([
      { id: 'mysecret', optional: true },
      { id: 'othersecret', optional: true },
    ]);
    expect(request.ssh).toEqual([{ id: 'default', optional: true }]);
  });

  // dockerfile_provenance_test.go testDuplicatePlatformProvenance (alpine there; the registry's alpine here, a copy of
  // busybox). BuildKit asserts the build succeeds.
  port('testDuplicatePlatformProvenance', async () => {
    await copyAlpine(suite);
    const res = await suite.build({
      files: { Dockerfile: '\nFROM alpine AS base-linux\nFROM nanoserver AS base-windows\nFROM base-$TARGETOS\n' },
      output: 'none',
      args: ['--attest', 'type=provenance,mode=max', '--platform', 'linux/amd64,linux/amd64'],
    });
    ok(res);
  });

  // dockerfile_provenance_test.go testCommandSourceMapping (alpine there; the registry's alpine here, a copy of busybox)
  port('testCommandSourceMapping', async () => {
    await copyAlpine(suite);
    const dockerfile = 'FROM alpine\nRUN echo "hello" > foo\nWORKDIR /tmp\nCOPY foo foo2\nCOPY --link foo foo3\nADD bar bar';
    const dir = await context({ Dockerfile: dockerfile, foo: 'data', bar: 'data2' });
    const imgs = await push(suite, dir, 'buildkit/testsourcemappingprov', ['--attest', 'type=provenance,mode=max']);
    expect(imgs.images).toHaveLength(2);
    const pred = statementOf<ProvenanceV1>(imgs.findAttestation(HOST)?.layersRaw[0]).predicate;
    const def = pred.buildDefinition.internalParameters.buildConfig?.llbDefinition ?? [];
    const steps = new Map(def.map((s) => [s.id, s]));
    // All IDs are unique.
    expect(steps.size).toBe(def.length);
    const lines = new Array<boolean>(dockerfile.split('\n').length).fill(false);
    for (const [id, loc] of Object.entries(pred.runDetails.metadata.buildkit_metadata?.source?.locations ?? {})) {
      expect(steps.has(id), `definition for step ${id}`).toBe(true);
      // Only the context's upload may have no source mapping; every other step is on one line.
      if ((loc.locations ?? []).length === 0) expect(JSON.stringify(steps.get(id)?.op)).toContain('context');
      else expect(loc.locations, `step ${id}`).toHaveLength(1);
      for (const l of loc.locations ?? []) {
        for (const r of l.ranges ?? []) {
          expect(r.start.line, `step ${id}`).toBe(r.end.line);
          expect(r.start.line - 1).toBeGreaterThanOrEqual(0);
          expect(r.start.line - 1).toBeLessThan(lines.length);
          lines[r.start.line - 1] = true;
        }
      }
    }
    lines.forEach((covered, i) => expect(covered, `line ${i + 1} is covered`).toBe(true));
  });

  // dockerfile_provenance_test.go testDuplicateLayersProvenance
  port('testDuplicateLayersProvenance', async () => {
    const dockerfile = 'FROM busybox:latest AS base\n\nFROM base AS a\nRUN date +%s > /a.txt\n\nFROM base AS b\nCOPY --from=a /a.txt /\nRUN date +%s > /b.txt';
    const dir = await context({ Dockerfile: dockerfile });
    const imgs = await push(suite, dir, 'buildkit/testwithprovenance-dup', ['--attest', 'type=provenance,mode=max', '-f', `${dir}/Dockerfile`]);
    expect(imgs.images).toHaveLength(2);
    const att = imgs.find('unknown/unknown');
    const metadata = statementOf<ProvenanceV1>(att?.layersRaw[0]).predicate.runDetails.metadata;
    expect(metadata.buildkit_metadata?.layers?.['step0:0']).toHaveLength(1);
  });
});

/**
 * gitProvenance is testGitProvenanceAttestation: a build of a git repository's subfolder at a branch, over HTTP with
 * credentials in the URL, records the URL (credentials masked) and the commit in the object format of the repository.
 */
async function gitProvenance(suite: BuildkitSuite, format: 'sha1' | 'sha256', slsaVersion: string): Promise<void> {
  const dockerfile = '\nFROM busybox:latest\nRUN --network=none echo "git" > /foo\nCOPY myapp.Dockerfile /\n';
  const dir = await suite.context({ 'src/myapp.Dockerfile': dockerfile });
  const git = async (...args: string[]): Promise<string> => {
    const r = await run('git', ['-C', dir, ...args]);
    expect(r.code, r.stderr).toBe(0);
    return r.stdout.trim();
  };
  await git('init', '-q', ...(format === 'sha256' ? ['--object-format=sha256'] : []));
  await git('add', 'src/myapp.Dockerfile');
  await git('-c', 'user.email=test', '-c', 'user.name=test', 'commit', '-q', '-m', 'initial');
  await git('branch', 'v1');
  await git('update-server-info');
  const expectedGitSHA = await git('rev-parse', 'v1');
  await using server = await serveDir(dir);
  // Dummy credentials in the URL, which the provenance masks.
  const expectedURL = server.url.replace('http://', 'http://xxxxx:xxxxx@');
  const url = server.url.replace('http://', 'http://user:pass@');
  const repo = `buildkit/testwithprovenance-git-${format}-${slsaVersion || 'none'}`;
  const attest = ['type=provenance', ...(slsaVersion === '' ? [] : [`version=${slsaVersion}`])].join(',');
  const res = await suite.build({
    dir: await suite.context({}),
    contextArg: `${url}/.git#v1:src`,
    output: 'none',
    args: ['--attest', attest, '-f', 'myapp.Dockerfile', '--output', `type=image,name=${suite.env.registry.host}/${repo}:latest,push=true`],
  });
  ok(res);
  const imgs = await readImages(suite.env.registry.url, repo, 'latest');
  const att = attestationOf(imgs, 'git\n');
  const version = await tbuildVersion();
  const expBase = `pkg:docker/busybox@latest?platform=${encodeURIComponent(HOST)}`;
  const expectMaterials = (materials: readonly Material[] | undefined): void => {
    expect(materials).toHaveLength(2);
    expect(materials?.[0]?.uri).toBe(expBase);
    expect(materials?.[0]?.digest?.['sha256']).toMatch(/^[0-9a-f]{64}$/);
    expect(materials?.[1]?.uri).toBe(`${expectedURL}/.git#v1`);
    expect(materials?.[1]?.digest?.[format]).toBe(expectedGitSHA);
  };
  if (slsaVersion === '' || slsaVersion === 'v1') {
    const stmt = statementOf<ProvenanceV1>(att?.layersRaw[0]);
    expect(stmt._type).toBe(IN_TOTO_V1);
    expect(stmt.predicateType).toBe('https://slsa.dev/provenance/v1');
    const { buildDefinition: def, runDetails: run } = stmt.predicate;
    expect(def.externalParameters.request.frontend).toBeTruthy();
    expect(def.externalParameters.configSource.uri).toBe(`${expectedURL}/.git#v1:src`);
    expect(def.externalParameters.configSource.path).toBe('myapp.Dockerfile');
    expect(def.internalParameters.dockerfileVersion).toBe(version);
    expectMaterials(def.resolvedDependencies);
    expect(def.externalParameters.request.locals ?? []).toHaveLength(0);
    expect(run.metadata.buildkit_completeness.resolvedDependencies).toBe(true);
    expect(run.metadata.buildkit_hermetic).toBe(true);
    expect(run.metadata.buildkit_completeness.request).toBe(true);
    expect(run.metadata.buildkit_reproducible ?? false).toBe(false);
    expect(Object.keys(run.metadata.buildkit_metadata?.vcs ?? {})).toHaveLength(0);
  } else {
    const stmt = statementOf<ProvenanceV02>(att?.layersRaw[0]);
    expect(stmt._type).toBe(IN_TOTO_V1);
    expect(stmt.predicateType).toBe('https://slsa.dev/provenance/v0.2');
    const pred = stmt.predicate;
    expect(pred.invocation.parameters.frontend).toBeTruthy();
    expect(pred.invocation.configSource.uri).toBe(`${expectedURL}/.git#v1:src`);
    expect(pred.invocation.configSource.entryPoint).toBe('myapp.Dockerfile');
    expect(pred.invocation.environment.dockerfileVersion).toBe(version);
    expectMaterials(pred.materials);
    expect(pred.invocation.parameters.locals ?? []).toHaveLength(0);
    expect(pred.metadata.completeness.materials).toBe(true);
    expect(pred.metadata.completeness.environment).toBe(true);
    expect(pred.metadata['https://mobyproject.org/buildkit@v1#hermetic']).toBe(true);
    expect(pred.metadata.completeness.parameters).toBe(true);
    expect(pred.metadata.reproducible ?? false).toBe(false);
    expect(Object.keys(pred.metadata['https://mobyproject.org/buildkit@v1#metadata']?.vcs ?? {})).toHaveLength(0);
  }
}

/** copyAlpine makes the registry's library/alpine a copy of busybox: offline there is no alpine image. */
async function copyAlpine(suite: BuildkitSuite): Promise<void> {
  const host = suite.env.registry.host;
  const copy = await run('skopeo', ['copy', '-q', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${host}/library/busybox:latest`, `docker://${host}/library/alpine:latest`]);
  expect(copy.code, copy.stderr).toBe(0);
}
