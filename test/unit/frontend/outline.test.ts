import { describe, expect, it } from 'vitest';
import { DockerfileError } from '../../../base/errors.js';
import { describeDockerfile } from '../../../frontend/index.js';
import { parseBuildCommand } from '../../../cli/build-command.js';

const DOCKERFILE = `# GO_VERSION sets the Go toolchain version
ARG GO_VERSION=1.22
# base the shared build environment
FROM busybox AS base
# OUT_DIR where the binary goes
ARG OUT_DIR=/out
# build compiles the app
FROM base AS build
RUN --mount=type=secret,id=npmrc,required=true --mount=type=ssh echo build
FROM busybox AS test
ARG UNUSED=1
RUN echo test
# this comment does not start with the stage name
FROM busybox AS release
COPY --from=build /etc/hostname /x
`;

describe('--call targets and outline', () => {
  it('lists the named stages with descriptions from comments that start with their name, the last as default', () => {
    expect(describeDockerfile(DOCKERFILE, 'Dockerfile', 'targets', undefined)).toBe(
      ['TARGET               DESCRIPTION', 'base                 the shared build environment', 'build                compiles the app', 'test', 'release (default)', ''].join('\n'),
    );
    expect(describeDockerfile('FROM busybox\nRUN true\n', 'Dockerfile', 'targets', undefined)).toBe('TARGET       DESCRIPTION\n(default)\n');
  });

  it('outlines the args, secrets and SSH agents of the target and the stages it uses, and nothing of the others', () => {
    const release = describeDockerfile(DOCKERFILE, 'Dockerfile', 'outline', undefined);
    expect(release).toContain('TARGET:      release (default)\n');
    expect(release).toMatch(/GO_VERSION +1\.22 +sets the Go toolchain version/);
    expect(release).toMatch(/OUT_DIR +\/out +where the binary goes/);
    expect(release).not.toContain('UNUSED');
    expect(release).toMatch(/SECRET +REQUIRED\nnpmrc +true/);
    expect(release).toMatch(/SSH +REQUIRED\ndefault +false/);
    const test = describeDockerfile(DOCKERFILE, 'Dockerfile', 'outline', 'test');
    expect(test).toContain('TARGET:      test\n');
    expect(test).toMatch(/UNUSED +1/);
    expect(test).not.toContain('OUT_DIR');
    expect(test).not.toContain('SECRET');
    expect(() => describeDockerfile(DOCKERFILE, 'Dockerfile', 'outline', 'tset')).toThrow(DockerfileError);
  });

  it('reads --call as buildx does', () => {
    expect(parseBuildCommand(['--call', 'targets', '.']).request.print).toBe('targets');
    expect(parseBuildCommand(['--call', 'outline', '.']).request.print).toBe('outline');
    expect(parseBuildCommand(['--call', 'check', '.']).request.check).toBe(true);
    expect(parseBuildCommand(['--call', 'build', '.']).request.print).toBeUndefined();
    expect(() => parseBuildCommand(['--call', 'lint', '.'])).toThrow(/--call=lint/);
  });
});
