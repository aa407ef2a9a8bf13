// Ported from moby/buildkit frontend/dockerfile/dockerfile_check_test.go: each case is one test function, its
// checkLinterWarnings calls listed in check-cases.ts (the file is split in two to run in parallel).
import { describe, expect } from 'vitest';
import { buildkitSuite, file, ok } from './harness.js';
import { checkLinterWarnings, portLintCalls, useBusyboxTag } from './check-harness.js';

describe('BuildKit dockerfile_check_test.go', () => {
  const suite = buildkitSuite('dockerfile_check_test.go');
  useBusyboxTag(suite, 'stable-musl');
  portLintCalls(suite, [
    'testMaintainerDeprecated',
    'testWarningsBeforeError',
    'testUndeclaredArg',
    'testWorkdirRelativePath',
    'testUnmatchedVars',
    'testMultipleInstructionsDisallowed',
    'testLegacyKeyValueFormat',
    'testRedundantTargetPlatform',
    'testInvalidDefaultArgInFrom',
    'testFromPlatformFlagConstDisallowed',
    'testExposeProtoCasing',
    'testExposeInvalidFormat',
  ]);

  // dockerfile_check_test.go testBaseImagePlatformMismatch: a base pushed for another platform than the build's.
  suite.port('testBaseImagePlatformMismatch', async () => {
    const [other, current] = process.arch === 'arm64' ? ['linux/amd64', 'linux/arm64'] : ['linux/arm64', 'linux/amd64'];
    const target = `${suite.env.registry.host}/buildkit/testbaseimageplatform:latest`;
    ok(
      await suite.build({
        files: { Dockerfile: '\nFROM scratch\nCOPY foo /foo\n', foo: file('test', 0o644) },
        output: 'none',
        args: ['--platform', other, '--output', `type=registry,name=${target}`],
      }),
    );
    const problems = await checkLinterWarnings(
      suite,
      {
        dockerfile: `\nFROM ${target}\nENV foo=bar\n\t`,
        warnings: [['InvalidBaseImagePlatform', `Base image ${target} was pulled with platform "${other}", expected "${current}" for current build`, 2]],
        platform: current,
      },
      'call 1',
    );
    expect(problems, problems.join('\n')).toEqual([]);
  });
});
