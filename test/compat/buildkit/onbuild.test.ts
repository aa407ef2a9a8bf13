// Ported from moby/buildkit frontend/dockerfile/dockerfile_onbuild_test.go: each case names its test function.
// BuildKit pushes the base images to a test registry; here they go to the loopback registry of the suite.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect } from 'vitest';
import { run } from '../../helpers/cli.js';
import { buildkitSuite, ok, type Entry } from './harness.js';
import { exportLayout } from './fixtures.js';

describe('BuildKit dockerfile_onbuild_test.go', () => {
  const suite = buildkitSuite('dockerfile_onbuild_test.go');
  const { build, env, port, succeeds } = suite;
  const push = async (files: Record<string, Entry>, name: string): Promise<string> => {
    const target = `${env.registry.host}/buildkit/${name}`;
    ok(await build({ files, output: 'none', args: ['--output', `type=registry,name=${target}`] }));
    return target;
  };

  beforeAll(async () => {
    // Offline there is no alpine image: the registry's library/alpine is a copy of the fixture busybox.
    const host = env.registry.host;
    const copy = await run('skopeo', ['copy', '-q', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${host}/library/busybox:latest`, `docker://${host}/library/alpine:latest`]);
    expect(copy.code, copy.stderr).toBe(0);
  });

  // dockerfile_onbuild_test.go testOnBuildCleared
  port('testOnBuildCleared', async () => {
    const target = await push({ Dockerfile: '\nFROM busybox\nONBUILD RUN mkdir -p /out && echo -n 11 >> /out/foo\n' }, 'testonbuild:base');
    const target2 = await push({ Dockerfile: `\n\tFROM ${target}\n\t` }, 'testonbuild:child');
    const res = await build({ files: { Dockerfile: `\n\tFROM ${target2} AS base\n\tFROM scratch\n\tCOPY --from=base /out /\n\t` } });
    ok(res);
    expect(await res.read('foo')).toBe('11');
  });

  // dockerfile_onbuild_test.go testOnBuildWithChildStage
  port('testOnBuildWithChildStage', async () => {
    const target = await push({ Dockerfile: '\nFROM busybox\nONBUILD RUN mkdir -p /out && echo -n yes >> /out/didrun\n' }, 'testonbuildstage:base');
    const res = await build({
      files: {
        Dockerfile: `
FROM ${target} AS base
RUN [ -f /out/didrun ] && touch /step1
RUN rm /out/didrun
RUN [ ! -f /out/didrun ] && touch /step2
FROM base AS child
RUN [ ! -f /out/didrun ] && touch /step3
FROM scratch
COPY --from=child /step* /
`,
      },
    });
    ok(res);
    for (const step of ['step1', 'step2', 'step3']) expect((await stat(join(res.out, step))).isFile()).toBe(true);
  });

  // dockerfile_onbuild_test.go testOnBuildInheritedStageRun
  port('testOnBuildInheritedStageRun', async () => {
    const res = await build({
      files: {
        Dockerfile:
          '\nFROM busybox AS base\nONBUILD RUN mkdir -p /out && echo -n 11 >> /out/foo\nFROM base AS mid\nRUN cp /out/foo /out/bar\nFROM scratch\nCOPY --from=mid /out/bar /\n',
      },
    });
    ok(res);
    expect(await res.read('bar')).toBe('11');
  });

  // dockerfile_onbuild_test.go testOnBuildInheritedStageWithFrom (alpine there; busybox here: only sh runs)
  port('testOnBuildInheritedStageWithFrom', async () => {
    const res = await build({
      files: {
        Dockerfile: `
FROM busybox AS src
RUN mkdir -p /in && echo -n 12 > /in/file
FROM busybox AS base
ONBUILD COPY --from=src /in/file /out/foo
FROM base AS mid
RUN cp /out/foo /out/bar
FROM scratch
COPY --from=mid /out/bar /
`,
      },
    });
    ok(res);
    expect(await res.read('bar')).toBe('12');
  });

  // dockerfile_onbuild_test.go testOnBuildNewDeps. BuildKit copies /etc/alpine-release from the alpine image; with
  // only busybox offline, the external image is busybox and the file its /etc/passwd (the check is the same: the
  // ONBUILD trigger pulls in an image the child Dockerfile never names).
  port('testOnBuildNewDeps', async () => {
    const target = await push({ Dockerfile: '\nFROM busybox\nONBUILD COPY --from=busybox /etc/passwd /out/alpine-release2\n' }, 'testonbuilddeps:base');
    let res = await build({
      files: { Dockerfile: `\n\tFROM ${target} AS base\n\tRUN cat /out/alpine-release2 > /out/alpine-release3\n\tFROM scratch\n\tCOPY --from=base /out /\n\t` },
    });
    ok(res);
    expect((await res.read('alpine-release3')).length).toBeGreaterThan(5);
    // build another onbuild image to test nested case
    const target2 = await push(
      {
        Dockerfile:
          '\nFROM busybox\nONBUILD RUN --mount=type=bind,target=/in,from=inputstage mkdir /out && cat /in/foo > /out/bar && cat /in/out/alpine-release2 > /out/bar2\n',
      },
      'testonbuilddeps:base2',
    );
    res = await build({
      files: {
        Dockerfile: `
	FROM ${target} AS inputstage
	RUN cat /out/alpine-release2 > /out/alpine-release4
	RUN echo -n foo > /foo
	FROM ${target2} AS base
	RUN echo -n bar3 > /out/bar3
	FROM scratch
	COPY --from=base /out /
	`,
      },
    });
    ok(res);
    expect(await res.read('bar')).toBe('foo');
    expect((await res.read('bar2')).length).toBeGreaterThan(5);
    expect(await res.read('bar3')).toBe('bar3');
  });

  // dockerfile_onbuild_test.go testOnBuildWithCacheMount
  port('testOnBuildWithCacheMount', async () => {
    const target = await push(
      { Dockerfile: '\nFROM busybox\nONBUILD RUN --mount=type=cache,target=/cache echo -n 42 >> /cache/foo && echo -n 11 >> /bar\n' },
      'testonbuild:cachebase',
    );
    await succeeds({ Dockerfile: `FROM ${target}\nRUN --mount=type=cache,target=/cache [ "$(cat /cache/foo)" = "42" ] && [ "$(cat /bar)" = "11" ]\n` });
  });

  // dockerfile_onbuild_test.go testOnBuildNamedContext: an OCI layout's image whose ONBUILD names a stage of the
  // Dockerfile that uses it (--build-context base=oci-layout://DIR@sha256:…). The registry's alpine is the fixture
  // busybox (see NOT-PORTED.md).
  port('testOnBuildNamedContext', async () => {
    const layout = await exportLayout(suite, '\n\tFROM busybox:latest\n\tONBUILD COPY --from=otherstage /testfile /out/foo\n\t', 'testonbuildnamedcontext');
    const dockerfile = '\n\t\tFROM alpine AS otherstage\n\t\tRUN echo -n "hello" > /testfile\n\n\t\tFROM base AS inputstage\n\n\t\tFROM scratch\n\t\tCOPY --from=inputstage /out/foo /bar\n\t';
    const res = await build({ files: { Dockerfile: dockerfile }, args: ['--build-context', `base=oci-layout://${layout.dir}@${layout.digest}`] });
    ok(res);
    expect(await res.read('bar')).toBe('hello');
  });
});
