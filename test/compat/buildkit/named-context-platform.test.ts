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

  /**
   * pushIndex builds the base image as an index and pushes it. BuildKit forces an index of the one platform with
   * BUILDKIT_MULTI_PLATFORM=true; here two target platforms make it, each image naming its platform in a file.
   */
  const pushIndex = async (name: string): Promise<string> => {
    const target = `${env.registry.host}/buildkit/${name}:latest`;
    const dockerfile = 'FROM alpine:latest\nARG TARGETARCH\nCOPY <<EOF /arch\n${TARGETARCH}\nEOF\n';
    ok(await build({ files: { Dockerfile: dockerfile }, output: 'none', args: ['--platform', 'linux/amd64,linux/arm64', '--output', `type=image,name=${target},push=true`] }));
    const raw = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${target}`]);
    expect(raw.code, raw.stderr).toBe(0);
    const index = JSON.parse(raw.stdout) as { manifests?: { platform?: { architecture: string } }[] };
    expect(index.manifests?.map((m) => m.platform?.architecture)).toEqual(['amd64', 'arm64']);
    return target;
  };

  // As BuildKit wrote it: the stage's base is alpine, so the busybox context is not what it reads; the build succeeds
  // with a target platform no image has, because the stage asks for the build platform.
  port(
    'testNamedImageContextPlatform',
    async () => {
      const target = await pushIndex('testnamedimagecontextplatform');
      const dockerfile = '\n\t\tFROM --platform=$BUILDPLATFORM alpine AS target\n\t\tRUN echo hello\n\t\t';
      ok(await build({ files: { Dockerfile: dockerfile }, output: 'none', args: ['--build-context', `busybox=docker-image://${target}`, '--platform', 'darwin/ppc64le'] }));
    },
    'as written',
  );

  // What the test means to show, with the named context in use: its index gives the build platform's image.
  port(
    'testNamedImageContextPlatform',
    async () => {
      const target = await pushIndex('testnamedimagecontextplatformnamed');
      const dockerfile = '\n\t\tFROM --platform=$BUILDPLATFORM busybox AS target\n\t\tRUN echo hello && cp /arch /picked\n\t\t';
      const res = await build({ files: { Dockerfile: dockerfile }, args: ['--build-context', `busybox=docker-image://${target}`, '--platform', 'darwin/ppc64le'] });
      ok(res);
      expect(await res.read('picked')).toBe(`${hostPlatform().architecture}\n`);
    },
    'named context used',
  );
});
