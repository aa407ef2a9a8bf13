import { describe, expect, it } from 'vitest';
import { DockerfileError } from '../../../base/errors.js';
import { describeDockerfile, type DescribeOptions } from '../../../frontend/index.js';
import { parseBuildCommand } from '../../../cli/build-command.js';

const DOCKERFILE = `# GO_VERSION sets the Go toolchain version
ARG GO_VERSION=1.22
# base the shared build environment
FROM busybox:\${GO_VERSION} AS base
# OUT_DIR where the binary goes
ARG OUT_DIR=/out
ENV DIR=\${OUT_DIR}/bin
# build compiles the app
FROM base AS build
RUN --mount=type=secret,id=npmrc,required=true --mount=type=ssh --mount=type=secret,id=\${DIR} echo build
FROM busybox AS test
ARG UNUSED=1
RUN echo test
# this comment does not start with the stage name
FROM busybox AS release
COPY --from=build /etc/hostname /x
`;

const OPTIONS: DescribeOptions = {
  file: 'Dockerfile',
  buildArgs: new Map([['OUT_DIR', '/dist']]),
  targetPlatform: { os: 'linux', architecture: 'amd64' },
  buildPlatform: { os: 'linux', architecture: 'amd64' },
};

describe('--call targets, outline and subrequests.describe', () => {
  it('lists every stage with the description a comment line starting with its name gives, the last as default', () => {
    expect(describeDockerfile(DOCKERFILE, 'targets', OPTIONS).text).toBe(
      ['TARGET            DESCRIPTION', 'base              the shared build environment', 'build             compiles the app', 'test              ', 'release (default) ', ''].join('\n'),
    );
    expect(describeDockerfile('FROM busybox\nRUN true\n', 'targets', OPTIONS).json).toEqual({
      targets: [{ default: true, base: 'busybox', location: { ranges: [{ start: { line: 1 }, end: { line: 1 } }] } }],
      sources: [Buffer.from('FROM busybox\nRUN true\n').toString('base64')],
    });
  });

  it('outlines the args, secrets and SSH agents the target and the stages it uses need, and nothing of the others', () => {
    expect(describeDockerfile(DOCKERFILE, 'outline', OPTIONS).text).toBe(
      [
        'TARGET: release',
        '',
        'BUILD ARG    VALUE   DESCRIPTION',
        'GO_VERSION   1.22    sets the Go toolchain version',
        'OUT_DIR      /dist   where the binary goes',
        '',
        'SECRET      REQUIRED',
        'npmrc       true',
        '/dist/bin   ',
        '',
        'SSH       REQUIRED',
        'default   ',
        '',
        '',
      ].join('\n'),
    );
    const test = describeDockerfile(DOCKERFILE, 'outline', { ...OPTIONS, target: 'test' }).json;
    expect(test).toMatchObject({ name: 'test', args: [{ name: 'UNUSED', value: '1', location: { ranges: [{ start: { line: 12 }, end: { line: 12 } }] } }] });
    expect(test).not.toHaveProperty('secrets');
    expect(() => describeDockerfile(DOCKERFILE, 'outline', { ...OPTIONS, target: 'tset' })).toThrow(DockerfileError);
  });

  it('lists the subrequests the frontend answers, as BuildKit does', () => {
    const { json, text } = describeDockerfile('', 'subrequests.describe', OPTIONS);
    expect(json).toMatchObject([{ name: 'frontend.outline', opts: [{ name: 'target' }] }, { name: 'frontend.targets', opts: [] }, { name: 'frontend.subrequests.describe', opts: null }]);
    expect(text.split('\n')[0]).toBe('NAME                 VERSION DESCRIPTION');
  });

  it('reads --call as buildx does', () => {
    expect(parseBuildCommand(['--call', 'targets', '.'], { cwd: '/w', env: {} }).request.print).toBe('targets');
    expect(parseBuildCommand(['--call', 'outline,format=json', '.'], { cwd: '/w', env: {} }).request.print).toBe('outline-json');
    expect(parseBuildCommand(['--call', 'subrequests.describe', '.'], { cwd: '/w', env: {} }).request.print).toBe('subrequests.describe');
    expect(parseBuildCommand(['--call', 'check', '.'], { cwd: '/w', env: {} }).request.check).toBe(true);
    expect(parseBuildCommand(['--call', 'build', '.'], { cwd: '/w', env: {} }).request.print).toBeUndefined();
    expect(() => parseBuildCommand(['--call', 'lint', '.'], { cwd: '/w', env: {} })).toThrow(/--call=lint/);
  });
});
