// Ported from moby/buildkit frontend/dockerfile/dockerfile_image_test.go and dockerfile_export_test.go: each case
// names its test function. BuildKit reads images from containerd; here they are pushed to the loopback registry or
// exported as OCI archives.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect } from 'vitest';
import { buildkitSuite, file, ok } from './harness.js';
import { makeTar, readTarToMap, type OciIndex } from './fixtures.js';

describe('BuildKit dockerfile_image_test.go', () => {
  const { build, context, env, port } = buildkitSuite('dockerfile_image_test.go');

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

  // dockerfile_image_test.go testOCILayoutMultiname: BuildKit's exporter attribute name="a,b" is buildx's
  // -o type=oci,"name=a,b"; the layout folder (tar=false) and the archive list the manifest once per name.
  port('testOCILayoutMultiname', async () => {
    const files = { Dockerfile: '\nFROM scratch\nCOPY <<EOF /foo\nhello\nEOF\n' };
    const validateIdx = (idx: OciIndex): void => {
      expect(idx.manifests).toHaveLength(2);
      const [a, b] = idx.manifests;
      expect(a?.digest).toBe(b?.digest);
      expect(a?.platform).toEqual(b?.platform);
      expect(a?.mediaType).toBe(b?.mediaType);
      expect(a?.size).toBe(b?.size);
      expect(a?.annotations?.['io.containerd.image.name']).toBe('docker.io/org/repo:tag1');
      expect(b?.annotations?.['io.containerd.image.name']).toBe('docker.io/org/repo:tag2');
      expect(a?.annotations?.['org.opencontainers.image.ref.name']).toBe('tag1');
      expect(b?.annotations?.['org.opencontainers.image.ref.name']).toBe('tag2');
    };
    const dest = join(env.tmp.path, 'testocilayoutmultiname');
    const dir = await context(files);
    ok(await build({ dir, output: 'none', args: ['--output', `type=oci,dest=${dest},tar=false,"name=org/repo:tag1,org/repo:tag2"`] }));
    validateIdx(JSON.parse(await readFile(join(dest, 'index.json'), 'utf8')) as OciIndex);
    // test that tar variant matches
    const archive = join(env.tmp.path, 'testocilayoutmultiname.tar');
    ok(await build({ dir, output: 'none', args: ['--output', `type=oci,dest=${archive},"name=org/repo:tag1,org/repo:tag2"`] }));
    validateIdx(JSON.parse((await readTarToMap(archive)).get('index.json')?.data.toString() ?? '{}') as OciIndex);
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

  // dockerfile_export_test.go testTarExporterMulti
  port('testTarExporterMulti', async () => {
    const files = { Dockerfile: '\nFROM scratch AS stage-linux\nCOPY foo forlinux\n\nFROM scratch AS stage-darwin\nCOPY bar fordarwin\n\nFROM stage-$TARGETOS\n', foo: file('data'), bar: file('data2') };
    const res = await build({ files, output: 'none' });
    const tar = `${res.out}.tar`;
    ok(await build({ dir: res.dir, output: 'none', args: ['--output', `type=tar,dest=${tar}`] }));
    expect((await readTarToMap(tar)).get('forlinux')?.data.toString()).toBe('data');
    // repeat multi-platform
    const multi = `${res.out}-multi.tar`;
    ok(await build({ dir: res.dir, output: 'none', args: ['--platform', 'linux/amd64,darwin/amd64', '--output', `type=tar,dest=${multi}`] }));
    const m = await readTarToMap(multi);
    expect(m.get('linux_amd64/forlinux')?.data.toString()).toBe('data');
    expect(m.get('darwin_amd64/fordarwin')?.data.toString()).toBe('data2');
  });

  // dockerfile_export_test.go testExportMultiPlatform
  port('testExportMultiPlatform', async () => {
    const files = {
      Dockerfile: '\nFROM scratch\nARG TARGETARCH\nARG TARGETPLATFORM\nLABEL target=$TARGETPLATFORM\nCOPY arch-$TARGETARCH whoami\n',
      'arch-arm': file('i am arm'),
      'arch-amd64': file('i am amd64'),
      'arch-s390x': file('i am s390x'),
      'arch-ppc64le': file('i am ppc64le'),
    };
    const res = await build({ files, args: ['--platform', 'windows/amd64,linux/arm,linux/s390x'] });
    ok(res);
    expect(await res.read('windows_amd64/whoami')).toBe('i am amd64');
    expect(await res.read('linux_arm_v7/whoami')).toBe('i am arm');
    expect(await res.read('linux_s390x/whoami')).toBe('i am s390x');
    // repeat with oci exporter
    const oci = await build({ dir: res.dir, output: 'oci', args: ['--platform', 'windows/amd64,linux/arm/v6,linux/ppc64le'] });
    ok(oci);
    const m = await readTarToMap(oci.archive);
    const json = <T>(name: string): T => JSON.parse(m.get(name)?.data.toString() ?? 'null') as T;
    const blob = (digest: string): string => `blobs/sha256/${digest.slice('sha256:'.length)}`;
    const top = json<{ manifests: { digest: string }[] }>('index.json');
    const idx = json<{ manifests: { digest: string; platform: { os: string; architecture: string; variant?: string } }[] }>(blob(top.manifests[0]?.digest ?? ''));
    expect(idx.manifests).toHaveLength(3);
    const expected = [
      { p: 'windows/amd64', os: 'windows', arch: 'amd64', dt: 'i am amd64' },
      { p: 'linux/arm/v6', os: 'linux', arch: 'arm', dt: 'i am arm' },
      { p: 'linux/ppc64le', os: 'linux', arch: 'ppc64le', dt: 'i am ppc64le' },
    ];
    for (const [i, exp] of expected.entries()) {
      const entry = idx.manifests[i];
      const p = entry?.platform;
      expect([p?.os, p?.architecture, p?.variant].filter((s) => s !== undefined).join('/')).toBe(exp.p);
      const mfst = json<{ layers: { digest: string }[]; config: { digest: string } }>(blob(entry?.digest ?? ''));
      expect(mfst.layers).toHaveLength(1);
      const layer = m.get(blob(mfst.layers[0]?.digest ?? ''))?.data ?? Buffer.alloc(0);
      expect((await readTarToMap(gunzipSync(layer))).get('whoami')?.data.toString()).toBe(exp.dt);
      const img = json<{ os: string; architecture: string; config: { Labels?: Record<string, string> } }>(blob(mfst.config.digest));
      expect([img.os, img.architecture]).toEqual([exp.os, exp.arch]);
      expect(img.config.Labels?.target).toBe(exp.p);
    }
  });
});
