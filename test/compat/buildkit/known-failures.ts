/**
 * KNOWN_FAILURES lists the ported BuildKit cases tbuild fails today, each with the bug it shows. Such a case runs as
 * `it.fails`: once tbuild is fixed, the case passes, `it.fails` turns red, and its entry must be removed here.
 * Keys are `<BuildKit test file> <test function>` or `<file> <function> / <variant>`.
 */
export const KNOWN_FAILURES: Readonly<Record<string, string>> = {
  // dockerfile_copy_test.go
  // dockerfile_core_test.go
  'dockerfile_core_test.go testUserAdditionalGids': 'RUN as root lists only the supplementary groups: `id` shows groups=10(wheel), BuildKit groups=0(root),10(wheel) (primary gid included, CVE-2023-25173)',
  'dockerfile_core_test.go testDockerfileCheckHostname / arg': '--build-arg BUILDKIT_SANDBOX_HOSTNAME=foo does not set the RUN hostname (/etc/hosts, $HOSTNAME, hostname)',
  // dockerfile_add_test.go
  'dockerfile_add_test.go testDockerfileADDFromURL': 'a second build GETs an ADD URL again where BuildKit sends HEAD (ETag revalidation); requests carry no tbuild/ User-Agent',
  // dockerfile_heredoc_test.go
  'dockerfile_heredoc_test.go testOnBuildHeredoc': 'ONBUILD RUN <<EOF ... EOF is refused with "unterminated heredoc"; BuildKit stores the heredoc trigger and runs it in the child build',
  // dockerfile_history_test.go
  // dockerfile_mount_test.go
  'dockerfile_mount_test.go testMountInvalid': 'mount flag errors say "did you mean --mount?" and list the types for "tmp"; BuildKit says "did you mean mount?" and "did you mean tmpfs?"',
  'dockerfile_mount_test.go testMountRWCache': 'RUN --mount=from=<stage> runs again when the stage\'s steps change but the mounted folder does not; BuildKit keys the mount by its content and reuses the cached RUN',
  'dockerfile_mount_test.go testMountFromError': 'RUN --mount=from=$VAR is accepted; BuildKit refuses it: "\'from\' doesn\'t support variable expansion, define alias stage instead"',
};
