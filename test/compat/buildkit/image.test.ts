// Ported from moby/buildkit frontend/dockerfile/dockerfile_image_test.go and dockerfile_export_test.go: each case
// names its test function. BuildKit reads images from containerd; here they are pushed to the loopback registry or
// exported as OCI archives.
import { describe, expect } from 'vitest';
import { buildkitSuite, file, ok } from './harness.js';
import { makeTar, readTarToMap } from './fixtures.js';

describe('BuildKit dockerfile_image_test.go', () => {
  const { build, env, port } = buildkitSuite('dockerfile_image_test.go');

  // dockerfile_image_test.go testPullScratch (without its last part, an LLB solve mounting the image, which has no
  // Dockerfile form)
  port('testPullScratch', async () => {
    const target = `${env.registry.host}/moby/testpullscratch:latest`;
    ok(await build({ files: { Dockerfile: '\nFROM scratch\nLABEL foo=bar\n' }, output: 'none', args: ['--output', `type=registry,name=${target}`] }));
    const res = await build({ files: { Dockerfile: `\nFROM ${target}\nLABEL bar=baz\nCOPY foo .\n`, foo: file('foo-contents') }, output: 'oci' });
    ok(res);
    const img = await res.image();
    expect(img.rootfs.diff_ids).toHaveLength(1);
    expect(img.config.Labels?.foo).toBe('bar');
    expect(img.config.Labels?.bar).toBe('baz');
  });

  // dockerfile_image_test.go testDockerfileScratchConfig
  port('testDockerfileScratchConfig', async () => {
    const res = await build({ files: { Dockerfile: '\nFROM scratch\nENV foo=bar\n' }, output: 'oci' });
    ok(res);
    const img = await res.image();
    expect(img.os ?? '').not.toBe('');
    expect(img.architecture ?? '').not.toBe('');
    expect(img.config.WorkingDir ?? '').not.toBe('');
    expect(img.rootfs.diff_ids).toHaveLength(0);
    expect(img.history).toHaveLength(1);
    expect(img.history?.[0]?.created_by).toContain('ENV foo=bar');
    expect(img.history?.[0]?.empty_layer).toBe(true);
    expect(img.config.Env).toContain('foo=bar');
    expect((img.config.Env ?? []).some((e) => e.startsWith('PATH='))).toBe(true);
  });
});

describe('BuildKit dockerfile_export_test.go', () => {
  const { build, context, port } = buildkitSuite('dockerfile_export_test.go');

  // dockerfile_export_test.go testTarExporterBasic
  port('testTarExporterBasic', async () => {
    const res = await build({ files: { Dockerfile: '\nFROM scratch\nCOPY foo foo\n', foo: file('data') }, output: 'none' });
    const tar = `${res.out}.tar`;
    ok(await build({ dir: res.dir, output: 'none', args: ['--output', `type=tar,dest=${tar}`] }));
    expect((await readTarToMap(tar)).get('foo')?.data.toString()).toBe('data');
  });

  // dockerfile_export_test.go testTarContext: BuildKit uploads the tar context over the session; here it is piped to
  // tbuild build - on standard input.
  port('testTarContext', async () => {
    const input = await makeTar([
      { name: 'Dockerfile', content: '\nFROM scratch\nCOPY foo /', mode: 0o644 },
      { name: 'foo', content: 'contents', mode: 0o644 },
    ]);
    const d = await context({});
    ok(await build({ dir: d, contextArg: '-', input, output: 'none' }));
  });
});
