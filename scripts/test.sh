#!/usr/bin/env bash
# Runs tbuild's whole test suite (as root) and ends with the line "N passed, M failed".
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

./scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }

# Static checks first (type-check of sources and tests, lint, layer rules): each counts as one test.
STATIC_CHECKS=(types lint layers)
./scripts/check.sh "${STATIC_CHECKS[@]}"
checks_failed=$?
checks_passed=$((${#STATIC_CHECKS[@]} - checks_failed))

report="$(mktemp)"
trap 'rm -f "$report"' EXIT
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@"
status=$?
[ "$checks_failed" -eq 0 ] || status=1
node -e '
  const fs = require("node:fs");
  let r = {};
  try { r = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); } catch { r = {}; }
  const passed = (r.numPassedTests ?? 0) + Number(process.argv[2]);
  // Files that fail to load count as failures too.
  const failed = (r.numFailedTests ?? 0) + (r.testResults ?? []).filter((f) => f.status === "failed" && (f.assertionResults ?? []).length === 0).length + Number(process.argv[3]);
  console.log(`${passed} passed, ${failed} failed`);
' "$report" "$checks_passed" "$checks_failed"
exit $status
