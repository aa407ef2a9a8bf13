/**
 * KNOWN_FAILURES lists the ported BuildKit cases tbuild fails today, each with the bug it shows. Such a case runs as
 * `it.fails`: once tbuild is fixed, the case passes, `it.fails` turns red, and its entry must be removed here.
 * Keys are `<BuildKit test file> <test function>` or `<file> <function> / <variant>`.
 */
export const KNOWN_FAILURES: Readonly<Record<string, string>> = {
  // dockerfile_copy_test.go
  // dockerfile_core_test.go
  // dockerfile_add_test.go
  // dockerfile_heredoc_test.go
  // dockerfile_history_test.go
  // dockerfile_mount_test.go
  // dockerfile_parents_test.go
  // dockerfile_secrets_test.go
  // errors_test.go
  // dockerfile_runnetwork_test.go
  'dockerfile_runnetwork_test.go testRunHostNetwork / granted': 'a RUN without --network=host reaches a service on the host\'s 127.0.0.1; BuildKit\'s default network is isolated from the host loopback',
  // dockerfile_runsecurity_test.go
  // dockerfile_ssh_test.go
  // exclude_patterns_test.go
  // dockerfile_git_http_test.go
  'dockerfile_git_http_test.go testDockerfileFromGitSHA256': 'a SHA-256 git repository served over dumb HTTP: "Cannot find ref \\"first\\""; BuildKit checks out branch first',
  // dockerfile_check_test.go (tbuild build --check; the calls are in check-cases.ts)
  'dockerfile_check_test.go testMaintainerDeprecated': '--check ignores a `# check=skip=` comment below FROM (JSONArgsRecommended, MaintainerDeprecated still reported); BuildKit honours it',
  'dockerfile_check_test.go testWarningsBeforeError': 'with a parse error on line 4 (BADCMD), --check reports neither the warnings before it (StageNameCasing, MaintainerDeprecated) nor "dockerfile parse error on line 4: unknown instruction: BADCMD"',
  'dockerfile_check_test.go testUndeclaredArg': 'UndefinedArgInFrom: reported for ARG DEBUG where BuildKit is silent, missing for $BULIDPLATFORM/$MYARCH with their hints; the platform errors ("empty platform value from expression $BULIDPLATFORM (did you mean BUILDPLATFORM?)", "failed to parse platform linux/${MYARCH}: ...") are not reported',
  'dockerfile_check_test.go testWorkdirRelativePath': 'no WorkdirRelativePath rule: `WORKDIR app/` gives no warning',
  'dockerfile_check_test.go testMultipleInstructionsDisallowed': 'no MultipleInstructionsDisallowed rule (several ENTRYPOINT, CMD or HEALTHCHECK in one stage)',
  'dockerfile_check_test.go testLegacyKeyValueFormat': 'LegacyKeyValueFormat: missing for ENV/LABEL key value in a stage the target does not build; reported where `# check=skip=LegacyKeyValueFormat` applies',
  'dockerfile_check_test.go testRedundantTargetPlatform': 'no RedundantTargetPlatform rule (FROM --platform=$TARGETPLATFORM)',
  'dockerfile_check_test.go testInvalidDefaultArgInFrom': 'no InvalidDefaultArgInFrom rule (a global ARG default making an empty or invalid FROM image name)',
  'dockerfile_check_test.go testFromPlatformFlagConstDisallowed': 'no FromPlatformFlagConstDisallowed rule (FROM --platform=linux/amd64)',
  'dockerfile_check_test.go testDefinitionDescription': 'no experimental InvalidDefinitionDescription rule (`# check=experimental=InvalidDefinitionDescription`)',
  'dockerfile_check_test.go testCopyIgnoredFiles': 'no CopyIgnoredFile rule (COPY/ADD of a file .dockerignore excludes); the build error is not `failed to calculate checksum of ref … "/Dockerfile": not found`',
  'dockerfile_check_test.go testCopyIgnoredFileContextRoot': 'no CopyIgnoredFile rule for COPY . when .dockerignore excludes everything',
  'dockerfile_check_test.go testSecretsUsedInArgOrEnv': 'no SecretsUsedInArgOrEnv rule (ARG/ENV named like a secret)',
  'dockerfile_check_test.go testAllTargetUnmarshal': '--check lints only the default target ($bar, line 6); BuildKit\'s lint request covers every stage ($foo, line 3, too)',
  'dockerfile_check_test.go testRuleCheckOption': '`#check=error=true` and BUILDKIT_DOCKERFILE_CHECK=...;error=true do not fail with "lint violation found for rules: FromAsCasing"',
  'dockerfile_check_test.go testNoEmptyContinuation': 'NoEmptyContinuation detail reads "Empty continuation line found in: COPY Dockerfile ."; BuildKit: "Empty continuation line"',
  'dockerfile_check_test.go testConsistentInstructionCasing': 'no ConsistentInstructionCasing rule (an instruction cased unlike the majority)',
  'dockerfile_check_test.go testDuplicateStageName': 'a duplicate stage name fails --check with an error instead of a DuplicateStageName warning',
  'dockerfile_check_test.go testReservedStageName': 'no ReservedStageName rule (stages named scratch or context)',
  'dockerfile_check_test.go testBaseImagePlatformMismatch': 'no InvalidBaseImagePlatform warning for a base image pushed for linux/arm64 built as linux/amd64 (or the reverse)',
  // dockerfile_cache_test.go
  // dockerfile_addgit_test.go
  'dockerfile_addgit_test.go testAddGitSHA1': 'ADD <git>#v0.0.3 --checksum=<v0.0.2 commit> fails with "it resolved to commit …, not --checksum=…"; BuildKit: "expected checksum to match"; a garbage checksum: "expected a commit hash", BuildKit: "invalid checksum … expected hex commit hash"',
  'dockerfile_addgit_test.go testAddGitSHA256': 'a SHA-256 git repository served over dumb HTTP: "Cannot find ref \\"v0.0.1\\""',
  'dockerfile_addgit_test.go testGitQueryString / context': 'git URL queries: ?branch=<a tag> and ?commit=<wrong short hash> build instead of failing; ?tag=…#ref (allowed mixed refs, ref conflicts) is passed to git as part of the URL; ?keep-git-dir and ?submodules are ignored (no .git/HEAD, no submodule files); missing refs say "Cannot find ref", BuildKit "repository does not contain ref"',
  'dockerfile_addgit_test.go testGitQueryString / add': 'git URL queries: ?branch=<a tag> and ?commit=<wrong short hash> build instead of failing; ?tag=…#ref (allowed mixed refs, ref conflicts) is passed to git as part of the URL; ?keep-git-dir and ?submodules are ignored (no .git/HEAD, no submodule files); missing refs say "Cannot find ref", BuildKit "repository does not contain ref"',
};
