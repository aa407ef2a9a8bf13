// Ported from moby/buildkit frontend/dockerfile/dockerfile_namedcontext_test.go testNamedImageContextPlatform: a named
// docker-image:// context whose image is an index of several platforms, read by a stage that asks for
// --platform=$BUILDPLATFORM while the target platform (darwin/ppc64le) is one no image has. The registry's
// library/alpine is the fixture's multi-platform busybox (offline there is no alpine).
import { beforeAll, describe, expect } from 'vitest';
import { run } from '../../helpers/cli.js';
import { hostPlatform } from '../../../base/oci.js';
import { SEED_TIMEOUT_MS, seedMultiarchBusybox } from '../../fixtures/multiarch-busybox.js';
import { buildkitSuite, ok } from './harness.js';

describe('BuildKit dockerfile_namedcontext_test.go (a named image of several platforms)', () => {
  const { build, env, port } = buildkitSuite('dockerfile_namedcontext_test.go');

  beforeAll(() => seedMultiarchBusybox(env.registry.host, 'library/alpine'), SEED_TIMEOUT_MS);

  // As BuildKit wrote it: BUILDKIT_MULTI_PLATFORM=true makes the pushed image an index of its one platform; the
  // stage's base is alpine, so the busybox context is not what it reads; the build succeeds with a target platform no
  // image has, because the stage asks for the build platform.
  port(
    'testNamedImageContextPlatform',
    async () => {
      const target = `${env.registry.host}/buildkit/testnamedimagecontextplatform:latest`;
      const base = await build({
        files: { Dockerfile: 'FROM --platform=$BUILDPLATFORM alpine:latest' },
        buildArgs: { BUILDKIT_MULTI_PLATFORM: 'true' },
        output: 'none',
        args: ['--output', `type=image,name=${target},push=true`],
      });
      ok(base);
      expect(await pushedArchitectures(target)).toEqual([hostPlatform().architecture]);
      const dockerfile = '\n\t\tFROM --platform=$BUILDPLATFORM alpine AS target\n\t\tRUN echo hello\n\t\t';
      ok(await build({ files: { Dockerfile: dockerfile }, output: 'none', args: ['--build-context', `busybox=docker-image://${target}`, '--platform', 'darwin/ppc64le'] }));
    },
    'as written',
  );

  // What the test means to show, with the named context in use: its index gives the build platform's image.
  port(
    'testNamedImageContextPlatform',
    async () => {
      // An index of two platforms, each image naming its platform in a file.
      const target = `${env.registry.host}/buildkit/testnamedimagecontextplatformnamed:latest`;
      const base = 'FROM alpine:latest\nARG TARGETARCH\nCOPY <<EOF /arch\n${TARGETARCH}\nEOF\n';
      ok(await build({ files: { Dockerfile: base }, output: 'none', args: ['--platform', 'linux/amd64,linux/arm64', '--output', `type=image,name=${target},push=true`] }));
      expect(await pushedArchitectures(target)).toEqual(['amd64', 'arm64']);
      const dockerfile = '\n\t\tFROM --platform=$BUILDPLATFORM busybox AS target\n\t\tRUN echo hello && cp /arch /picked\n\t\t';
      const res = await build({ files: { Dockerfile: dockerfile }, args: ['--build-context', `busybox=docker-image://${target}`, '--platform', 'darwin/ppc64le'] });
      ok(res);
      expect(await res.read('picked')).toBe(`${hostPlatform().architecture}\n`);
    },
    'named context used',
  );

  /** pushedArchitectures lists the architectures of the image index a reference names in the registry. */
  const pushedArchitectures = async (ref: string): Promise<(string | undefined)[] | undefined> => {
    const raw = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]);
    expect(raw.code, raw.stderr).toBe(0);
    return (JSON.parse(raw.stdout) as { manifests?: { platform?: { architecture: string } }[] }).manifests?.map((m) => m.platform?.architecture);
  };
});
