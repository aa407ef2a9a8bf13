// Ported from moby/buildkit frontend/dockerfile/dockerfile_targets_test.go: each case names its test function. BuildKit
// reads the frontend.targets subrequest's result.json through its gateway client; here `--call targets,format=json`
// prints it, and `--call subrequests.describe,format=json` the list of subrequests.
import { describe, expect } from 'vitest';
import type { TargetList } from '../../../frontend/index.js';
import { buildkitSuite, callJson, expectSubrequest } from './harness.js';

describe('BuildKit dockerfile_targets_test.go', () => {
  const suite = buildkitSuite('dockerfile_targets_test.go');

  // dockerfile_targets_test.go testTargetsList (alpine and busybox are only named: nothing is pulled)
  suite.port('testTargetsList', async () => {
    const dockerfile = `
# build defines stage for compiling the binary
FROM alpine AS build
RUN true

FROM busybox as second
RUN false

FROM alpine
RUN false

# binary returns the compiled binary
FROM second AS binary
`;
    const list = await callJson<TargetList>(suite, 'targets', { Dockerfile: dockerfile });
    expect(list.sources.length).toBe(1);
    expect(Buffer.from(list.sources[0] ?? '', 'base64').toString()).toBe(dockerfile);
    expect(list.targets.length).toBe(4);
    const [build, second, unnamed, binary] = list.targets;
    expect(build?.name).toBe('build');
    expect(build?.base).toBe('alpine');
    expect(build?.description).toBe('defines stage for compiling the binary');
    expect(build?.default ?? false).toBe(false);
    expect(build?.location?.sourceIndex ?? 0).toBe(0);
    expect(build?.location?.ranges[0]?.start.line).toBe(3);

    expect(second?.name).toBe('second');
    expect(second?.description ?? '').toBe('');
    expect(second?.base).toBe('busybox');
    expect(second?.default ?? false).toBe(false);
    expect(second?.location?.sourceIndex ?? 0).toBe(0);
    expect(second?.location?.ranges[0]?.start.line).toBe(6);

    expect(unnamed?.name ?? '').toBe('');
    expect(unnamed?.description ?? '').toBe('');
    expect(unnamed?.base).toBe('alpine');
    expect(unnamed?.default ?? false).toBe(false);
    expect(unnamed?.location?.sourceIndex ?? 0).toBe(0);
    expect(unnamed?.location?.ranges[0]?.start.line).toBe(9);

    expect(binary?.name).toBe('binary');
    expect(binary?.description).toBe('returns the compiled binary');
    expect(binary?.default).toBe(true);
    expect(binary?.location?.sourceIndex ?? 0).toBe(0);
    expect(binary?.location?.ranges[0]?.start.line).toBe(13);
  });

  // dockerfile_targets_test.go testTargetsDescribeDefinition
  suite.port('testTargetsDescribeDefinition', async () => {
    await expectSubrequest(suite, 'frontend.targets');
  });
});
