// Ported from moby/buildkit frontend/dockerfile/dockerfile_outline_test.go: each case names its test function. BuildKit
// reads the frontend.outline subrequest's result.json through its gateway client; here `--call outline,format=json`
// prints it, and `--call subrequests.describe,format=json` the list of subrequests.
import { describe, expect } from 'vitest';
import type { Outline } from '../../../frontend/index.js';
import { buildkitSuite, callJson, expectSubrequest } from './harness.js';

describe('BuildKit dockerfile_outline_test.go', () => {
  const suite = buildkitSuite('dockerfile_outline_test.go');
  const outlineOf = (dockerfile: string, args: readonly string[] = []): Promise<Outline> => callJson<Outline>(suite, 'outline', { Dockerfile: dockerfile }, args);

  // dockerfile_outline_test.go testOutlineArgs (alpine is only named: nothing is pulled)
  suite.port('testOutlineArgs', async () => {
    const dockerfile = `
ARG inherited=box
ARG inherited2=box2
ARG unused=abc\${inherited2}
# sfx is a suffix
ARG sfx="usy\${inherited}"

FROM b\${sfx} AS first
# this is not assigned to anything
ARG FOO=123
# BAR is a number
ARG BAR=456
RUN true

FROM alpine\${unused} AS second
ARG BAZ
RUN true

FROM scratch AS third
ARG ABC=a
# check=skip=all
ARG password
# alternate_password will show up in the outline
# check=skip=all
ARG alternate_password

# target defines build target
FROM third AS target
COPY --from=first /etc/passwd /

FROM second
`;
    const outline = await outlineOf(dockerfile, ['--build-arg', 'BAR=678', '--target', 'target']);
    expect(outline.name).toBe('target');
    expect(outline.description).toBe('defines build target');
    expect(outline.sources?.length).toBe(1);
    expect(Buffer.from(outline.sources?.[0] ?? '', 'base64').toString()).toBe(dockerfile);

    const args = outline.args ?? [];
    expect(args.length).toBe(7);
    expect(args[0]?.name).toBe('inherited');
    expect(args[0]?.value).toBe('box');
    expect(args[0]?.description ?? '').toBe('');
    expect(args[0]?.location?.sourceIndex ?? 0).toBe(0);
    expect(args[0]?.location?.ranges[0]?.start.line).toBe(2);

    expect(args[1]?.name).toBe('sfx');
    expect(args[1]?.value).toBe('usybox');
    expect(args[1]?.description).toBe('is a suffix');
    expect(args[1]?.location?.ranges[0]?.start.line).toBe(6);

    expect(args[2]?.name).toBe('FOO');
    expect(args[2]?.value).toBe('123');
    expect(args[2]?.description ?? '').toBe('');
    expect(args[2]?.location?.ranges[0]?.start.line).toBe(10);

    expect(args[3]?.name).toBe('BAR');
    expect(args[3]?.value).toBe('678');
    expect(args[3]?.description).toBe('is a number');

    expect(args[4]?.name).toBe('ABC');
    expect(args[4]?.value).toBe('a');

    expect(args[5]?.name).toBe('password');
    expect(args[5]?.value ?? '').toBe('');
    expect(args[5]?.description ?? '').toBe('');
    expect(args[5]?.location?.ranges[0]?.start.line).toBe(22);

    expect(args[6]?.name).toBe('alternate_password');
    expect(args[6]?.value ?? '').toBe('');
    expect(args[6]?.description).toBe('will show up in the outline');
    expect(args[6]?.location?.ranges[0]?.start.line).toBe(25);
  });

  // dockerfile_outline_test.go testOutlineSecrets
  suite.port('testOutlineSecrets', async () => {
    const dockerfile = `
FROM busybox AS first
RUN --mount=type=secret,target=/etc/passwd,required=true --mount=type=ssh true

FROM alpine AS second
RUN --mount=type=secret,id=unused --mount=type=ssh,id=ssh2 true

FROM scratch AS third
ARG BAR
RUN --mount=type=secret,id=second\${BAR} true

FROM third AS target
COPY --from=first /foo /
RUN --mount=type=ssh,id=ssh3,required true

FROM second
`;
    const outline = await outlineOf(dockerfile, ['--build-arg', 'BAR=678', '--target', 'target']);
    expect(outline.sources?.length).toBe(1);
    expect(Buffer.from(outline.sources?.[0] ?? '', 'base64').toString()).toBe(dockerfile);

    const secrets = outline.secrets ?? [];
    expect(secrets.length).toBe(2);
    expect(secrets[0]?.name).toBe('passwd');
    expect(secrets[0]?.required).toBe(true);
    expect(secrets[0]?.location?.sourceIndex ?? 0).toBe(0);
    expect(secrets[0]?.location?.ranges[0]?.start.line).toBe(3);

    expect(secrets[1]?.name).toBe('second678');
    expect(secrets[1]?.required ?? false).toBe(false);
    expect(secrets[1]?.location?.sourceIndex ?? 0).toBe(0);
    expect(secrets[1]?.location?.ranges[0]?.start.line).toBe(10);

    const ssh = outline.ssh ?? [];
    expect(ssh.length).toBe(2);
    expect(ssh[0]?.name).toBe('default');
    expect(ssh[0]?.required ?? false).toBe(false);
    expect(ssh[0]?.location?.sourceIndex ?? 0).toBe(0);
    expect(ssh[0]?.location?.ranges[0]?.start.line).toBe(3);

    expect(ssh[1]?.name).toBe('ssh3');
    expect(ssh[1]?.required).toBe(true);
    expect(ssh[1]?.location?.sourceIndex ?? 0).toBe(0);
    expect(ssh[1]?.location?.ranges[0]?.start.line).toBe(14);
  });

  // dockerfile_outline_test.go testOutlineRecursiveArgs
  suite.port('testOutlineRecursiveArgs', async () => {
    const outline = await outlineOf(`
ARG FOO=123
ARG ABC=abc
ARG DEF=def
ARG FOO=\${FOO}\${ABC}
ARG BAR=\${FOO}456
ARG FOO=\${FOO}456\${BAR}
FROM scratch
ARG FOO
ARG INFOO=123
ARG INBAR=\${INFOO}456
ARG INFOO=\${INFOO}456\${INBAR}
`);
    const args = outline.args ?? [];
    expect(args.length).toBe(5);
    expect([args[0]?.name, args[0]?.value]).toEqual(['ABC', 'abc']);
    expect([args[1]?.name, args[1]?.value]).toEqual(['BAR', '123abc456']);
    expect([args[2]?.name, args[2]?.value]).toEqual(['FOO', '123abc456123abc456']);
    expect([args[3]?.name, args[3]?.value]).toEqual(['INBAR', '123456']);
    expect([args[4]?.name, args[4]?.value]).toEqual(['INFOO', '123456123456']);
  });

  // dockerfile_outline_test.go testOutlineDescribeDefinition
  suite.port('testOutlineDescribeDefinition', async () => {
    await expectSubrequest(suite, 'frontend.outline');
  });
});
