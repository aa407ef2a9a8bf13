// Ported from moby/buildkit frontend/dockerfile/dockerfile_multistage_test.go: each case names its test function.
import { describe, expect } from 'vitest';
import { buildkitSuite, fails, file, ok } from './harness.js';

describe('BuildKit dockerfile_multistage_test.go', () => {
  const { build, port } = buildkitSuite('dockerfile_multistage_test.go');

  // dockerfile_multistage_test.go testMultiStageImplicitFrom
  port('testMultiStageImplicitFrom', async () => {
    let res = await build({ files: { Dockerfile: '\nFROM scratch\nCOPY --from=busybox /etc/passwd test\n' } });
    ok(res);
    expect(await res.read('test')).toContain('root');
    // testing masked image will load actual stage
    res = await build({
      files: { Dockerfile: '\nFROM busybox AS golang\nRUN mkdir -p /usr/bin && echo -n foo > /usr/bin/go\nFROM scratch\nCOPY --from=golang /usr/bin/go go\n' },
    });
    ok(res);
    expect(await res.read('go')).toContain('foo');
  });

  // dockerfile_multistage_test.go testMultiStageCaseInsensitive
  port('testMultiStageCaseInsensitive', async () => {
    const res = await build({
      files: {
        Dockerfile: '\nFROM scratch AS STAge0\nCOPY foo bar\nFROM scratch AS staGE1\nCOPY --from=staGE0 bar baz\nFROM scratch\nCOPY --from=stage1 baz bax\n',
        foo: file('foo-contents'),
      },
      target: 'Stage1',
    });
    ok(res);
    expect(await res.read('baz')).toContain('foo-contents');
  });

  // dockerfile_multistage_test.go testOutOfOrderStage (alpine there; busybox here: only COPY runs)
  for (const src of ['/', '/d2']) {
    port('testOutOfOrderStage', async () => {
      const res = await build({
        files: { Dockerfile: `\nFROM busybox AS target\nCOPY --from=build ${src} /out\nFROM busybox AS build\nCOPY /Dockerfile /d2\nFROM target\n` },
        output: 'none',
      });
      fails(res, 'cannot copy from stage');
      fails(res, 'needs to be defined before current stage');
    }, `src=${src}`);
  }

  // dockerfile_multistage_test.go testEmptyStages
  port('testEmptyStages', async () => {
    fails(await build({ files: { Dockerfile: 'ARG foo=bar' }, output: 'none' }), 'dockerfile contains no stages to build');
  });
});
