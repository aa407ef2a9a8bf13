// Ported from moby/buildkit frontend/dockerfile/dockerfile_platform_test.go and dockerfile_namedcontext_test.go: each
// case names its test function. BuildKit's platform frontend attribute is --platform; context:NAME is
// --build-context NAME=...
import { describe, expect } from 'vitest';
import { buildkitSuite, file, ok } from './harness.js';

describe('BuildKit dockerfile_platform_test.go', () => {
  const { build, port } = buildkitSuite('dockerfile_platform_test.go');

  // dockerfile_platform_test.go testPlatformArgsImplicit
  port('testPlatformArgsImplicit', async () => {
    const res = await build({
      files: { Dockerfile: `\nFROM scratch AS build-${process.platform}\nCOPY foo bar\nFROM build-\${TARGETOS}\nCOPY foo2 bar2\n`, foo: file('d0'), foo2: file('d1') },
    });
    ok(res);
    expect(await res.read('bar')).toBe('d0');
    expect(await res.read('bar2')).toBe('d1');
  });

  // dockerfile_platform_test.go testPlatformArgsExplicit
  port('testPlatformArgsExplicit', async () => {
    const res = await build({
      files: {
        Dockerfile:
          '\nFROM --platform=$BUILDPLATFORM busybox AS build\nARG TARGETPLATFORM\nARG TARGETOS\nRUN mkdir /out && echo -n $TARGETPLATFORM > /out/platform && echo -n $TARGETOS > /out/os\nFROM scratch\nCOPY --from=build out .\n',
      },
      buildArgs: { TARGETOS: 'freebsd' },
      args: ['--platform', 'darwin/ppc64le'],
    });
    ok(res);
    expect(await res.read('platform')).toBe('darwin/ppc64le');
    expect(await res.read('os')).toBe('freebsd');
  });
});

describe('BuildKit dockerfile_namedcontext_test.go', () => {
  const { build, context, port } = buildkitSuite('dockerfile_namedcontext_test.go');

  // dockerfile_namedcontext_test.go testNamedLocalContext: the stage base is replaced by a local folder, whose own
  // .dockerignore applies.
  port('testNamedLocalContext', async () => {
    const basedir = await context({ out: file('dummy-result'), out2: file('dummy-result'), '.dockerignore': file('out2\n') });
    const res = await build({
      files: { Dockerfile: '\nFROM busybox AS base\nRUN cat /etc/alpine-release > /out\nFROM scratch\nCOPY --from=base /o* /\n' },
      args: ['--build-context', `base=${basedir}`],
    });
    ok(res);
    expect((await res.read('out')).length).toBeGreaterThan(0);
    await expect(res.read('out2')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  // dockerfile_namedcontext_test.go testNamedImageContextScratch: busybox is replaced by docker-image://scratch.
  port('testNamedImageContextScratch', async () => {
    const res = await build({
      files: { Dockerfile: '\nFROM busybox AS build\nCOPY <<EOF /out\nhello world!\nEOF\n' },
      args: ['--build-context', 'busybox=docker-image://scratch'],
    });
    ok(res);
    expect(await res.read('out')).toBe('hello world!\n');
  });
});
