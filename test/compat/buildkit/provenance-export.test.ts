// Ported from moby/buildkit frontend/dockerfile/dockerfile_provenance_test.go (the exports of provenance to local and
// tar outputs and to the image store; the pushed images are in provenance.test.ts): each case names its test
// function. BuildKit's "attest:provenance" frontend attribute is `--attest type=provenance,...`, its "platform"
// attribute --platform, and its local, tar and image exporters `--output type=local|tar|image` with the same
// attributes. BuildKit's busybox is an index of several platforms: builds of several platforms use the fixture's
// multi-platform busybox under that name.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { seedMultiarchBusybox } from '../../fixtures/multiarch-busybox.js';
import { buildkitSuite, ok } from './harness.js';
import { readTarToMap } from './fixtures.js';
import type { ProvenanceV1, Statement } from './provenance-images.js';

const HOST_FOLDER = 'linux_amd64';
const PLATFORMS = 'linux/amd64,linux/arm64';

/** OUT_FOO_DOCKERFILE is the Dockerfile of testProvenanceExportLocal and its split variants. */
const OUT_FOO_DOCKERFILE = `
FROM busybox:latest AS base
COPY <<EOF /out/foo
ok
EOF

FROM scratch
COPY --from=base /out /
`;

/** expectProvenance parses a provenance file as BuildKit's tests do (into a SLSA v1 predicate) and checks its type. */
function expectProvenance(text: string): void {
  expect(text.length).toBeGreaterThan(0);
  const stmt = JSON.parse(text) as Statement<ProvenanceV1>;
  expect(stmt.predicateType).toBe('https://slsa.dev/provenance/v1');
  expect(stmt.predicate.buildDefinition.buildType).toContain('slsa-definitions');
}

describe('BuildKit dockerfile_provenance_test.go (exports)', () => {
  const suite = buildkitSuite('dockerfile_provenance_test.go');
  const { build, env, port } = suite;
  const local = async (dockerfile: string, attrs: string, args: readonly string[] = []): Promise<string> => {
    const dest = join(env.tmp.path, `local-${Math.random().toString(36).slice(2)}`);
    ok(await build({ files: { Dockerfile: dockerfile }, output: 'none', args: ['--attest', 'type=provenance,mode=max', '--output', `type=local,dest=${dest}${attrs}`, ...args] }));
    return dest;
  };
  const read = (dest: string, ...path: string[]): Promise<string> => readFile(join(dest, ...path), 'utf8');

  // dockerfile_provenance_test.go testProvenanceExportLocal
  port('testProvenanceExportLocal', async () => {
    const dest = await local(OUT_FOO_DOCKERFILE, '');
    expect(await read(dest, 'foo')).toBe('ok\n');
    expectProvenance(await read(dest, 'provenance.json'));
  });

  // dockerfile_provenance_test.go testProvenanceExportLocalForceSplit
  port('testProvenanceExportLocalForceSplit', async () => {
    const dest = await local(OUT_FOO_DOCKERFILE, ',platform-split=true');
    expect(await read(dest, HOST_FOLDER, 'foo')).toBe('ok\n');
    expectProvenance(await read(dest, HOST_FOLDER, 'provenance.json'));
  });

  // dockerfile_provenance_test.go testProvenanceExportLocalMultiPlatform
  port('testProvenanceExportLocalMultiPlatform', async () => {
    await seedMultiarchBusybox(env.registry.host, 'library/busybox');
    const dest = await local(OUT_FOO_DOCKERFILE, '', ['--platform', PLATFORMS]);
    for (const platform of ['linux_amd64', 'linux_arm64']) {
      expect(await read(dest, platform, 'foo')).toBe('ok\n');
      expectProvenance(await read(dest, platform, 'provenance.json'));
    }
  });

  // dockerfile_provenance_test.go testProvenanceExportLocalMultiPlatformNoSplit
  port('testProvenanceExportLocalMultiPlatformNoSplit', async () => {
    await seedMultiarchBusybox(env.registry.host, 'library/busybox');
    const dockerfile = '\nFROM busybox:latest AS base\nARG TARGETARCH\nCOPY <<EOF /out/foo_${TARGETARCH}\nok\nEOF\n\nFROM scratch\nCOPY --from=base /out /\n';
    const dest = await local(dockerfile, ',platform-split=false', ['--platform', PLATFORMS]);
    for (const arch of ['amd64', 'arm64']) {
      expect(await read(dest, `foo_${arch}`)).toBe('ok\n');
      expectProvenance(await read(dest, `provenance.linux_${arch}.json`));
    }
  });

  // dockerfile_provenance_test.go testNilProvenance: BuildKit asserts each build of a result without files succeeds;
  // here the local and tar outputs must also hold the provenance, at their root or in each platform's folder.
  for (const exporter of ['image', 'local', 'tar'] as const) {
    for (const platformMode of ['single', 'multi'] as const) {
      port(
        'testNilProvenance',
        async () => {
          const dest = join(env.tmp.path, `nil-${exporter}-${platformMode}`);
          const output = exporter === 'image' ? 'type=image' : `type=${exporter},dest=${exporter === 'tar' ? `${dest}.tar` : dest}`;
          const platform = platformMode === 'multi' ? ['--platform', PLATFORMS] : [];
          const metadata = `${dest}.json`;
          const args = ['--attest', 'type=provenance,mode=max', '--output', output, '--metadata-file', metadata, ...platform];
          ok(await build({ files: { Dockerfile: '\nFROM scratch\nENV FOO=bar\n' }, output: 'none', args }));
          const files = platformMode === 'multi' ? ['linux_amd64/provenance.json', 'linux_arm64/provenance.json'] : ['provenance.json'];
          if (exporter === 'local') for (const f of files) expectProvenance(await read(dest, f));
          if (exporter === 'tar') {
            const tar = await readTarToMap(`${dest}.tar`);
            for (const f of files) expectProvenance(tar.get(f)?.data.toString() ?? '');
          }
          // The image store keeps the image (an index with several platforms) by its digest.
          if (exporter === 'image') expect((JSON.parse(await readFile(metadata, 'utf8')) as Record<string, unknown>)['containerimage.digest']).toMatch(/^sha256:[0-9a-f]{64}$/);
        },
        `${exporter}/${platformMode}`,
      );
    }
  }
});
