// Ported from moby/buildkit frontend/dockerfile/dockerfile_provenance_test.go (the provenance of a build from an OCI
// layout context): BuildKit's "context:foo" = "oci-layout:STORE@sha256:…" with the store among the client's OCI stores
// is buildx's --build-context foo=oci-layout://DIR@sha256:…; "attest:provenance" is --attest type=provenance,…. The
// image is pushed to the suite's loopback registry and read back from there (BuildKit's testutil.ReadImages).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { buildkitSuite, ok } from './harness.js';
import type { OciIndex } from './fixtures.js';
import { readImages, statementOf, type Material, type ProvenanceV1 } from './provenance-images.js';

describe('BuildKit dockerfile_provenance_test.go (OCI layout contexts)', () => {
  const { build, env, port } = buildkitSuite('dockerfile_provenance_test.go');

  // dockerfile_provenance_test.go testOCILayoutProvenance: the builtin frontend's expectation (one material).
  port('testOCILayoutProvenance', async () => {
    const ocidir = join(env.tmp.path, 'testocilayoutprovenance');
    ok(await build({ files: { Dockerfile: '\nFROM scratch\nCOPY <<EOF /foo\nfoo\nEOF\n\t' }, output: 'none', args: ['--output', `type=oci,dest=${ocidir},tar=false`] }));
    const index = JSON.parse(await readFile(join(ocidir, 'index.json'), 'utf8')) as OciIndex;
    expect(index.manifests).toHaveLength(1);
    const digest = (index.manifests[0]?.digest ?? '').replace(/^sha256:/, '');

    const target = `${env.registry.host}/buildkit/clientprovenance:ocilayout`;
    ok(
      await build({
        files: { Dockerfile: '\nFROM foo\nCOPY <<EOF /bar\nbar\nEOF\n' },
        output: 'none',
        args: ['--build-context', `foo=oci-layout://${ocidir}@sha256:${digest}`, '--attest', 'type=provenance,mode=max', '--output', `type=image,name=${target},push=true`],
      }),
    );
    const imgs = await readImages(env.registry.url, 'buildkit/clientprovenance', 'ocilayout');
    expect(imgs.images).toHaveLength(2);
    const img = imgs.find('linux/amd64');
    expect(img?.layers[0]?.get('foo')?.data.toString()).toBe('foo\n');
    expect(img?.layers[1]?.get('bar')?.data.toString()).toBe('bar\n');

    const att = imgs.findAttestation('linux/amd64');
    const pred = statementOf<ProvenanceV1>(att?.layersRaw[0]).predicate;
    expect(pred.buildDefinition.resolvedDependencies).toHaveLength(1);
    let material: Material | undefined;
    for (const m of pred.buildDefinition.resolvedDependencies ?? []) {
      if (m.uri.includes('/foo')) {
        expect(material, JSON.stringify(pred.buildDefinition.resolvedDependencies)).toBeUndefined();
        material = m;
      }
    }
    expect(material).toBeDefined();
    expect(material?.uri.split('/')[0]).toBe('pkg:oci');
    expect(material?.digest?.['sha256']).toBe(digest);
  });
});
