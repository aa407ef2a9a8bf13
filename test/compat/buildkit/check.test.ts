// Ported from moby/buildkit frontend/dockerfile/dockerfile_check_test.go: each case is one test function, its
// checkLinterWarnings calls listed in check-cases.ts (the file is split in two to run in parallel).
import { describe } from 'vitest';
import { buildkitSuite } from './harness.js';
import { portLintCalls } from './check-harness.js';

describe('BuildKit dockerfile_check_test.go', () => {
  const suite = buildkitSuite('dockerfile_check_test.go');
  portLintCalls(suite, [
    'testDefinitionDescription',
    'testCopyIgnoredFiles',
    'testCopyIgnoredFileContextRoot',
    'testSecretsUsedInArgOrEnv',
    'testAllTargetUnmarshal',
    'testRuleCheckOption',
    'testStageName',
    'testNoEmptyContinuation',
    'testConsistentInstructionCasing',
    'testDuplicateStageName',
    'testReservedStageName',
    'testJSONArgsRecommended',
  ]);
});
