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
  // dockerfile_runsecurity_test.go
  // dockerfile_ssh_test.go
  // exclude_patterns_test.go
  // dockerfile_git_http_test.go
  // dockerfile_check_test.go (tbuild build --call check,format=json; the calls are in check-cases.ts)
  // dockerfile_cache_test.go
  // dockerfile_addgit_test.go
};
