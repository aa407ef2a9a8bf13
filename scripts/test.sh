#!/usr/bin/env bash
# Runs tbuild's whole test suite (as root) and ends with the line "N passed, M failed".
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

./scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }

report="$(mktemp)"
trap 'rm -f "$report"' EXIT
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@"
status=$?
node -e '
  const fs = require("node:fs");
  let r = {};
  try { r = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); } catch { r = {}; }
  const passed = r.numPassedTests ?? 0;
  // Files that fail to load count as failures too.
  const failed = (r.numFailedTests ?? 0) + (r.testResults ?? []).filter((f) => f.status === "failed" && (f.assertionResults ?? []).length === 0).length;
  console.log(`${passed} passed, ${failed} failed`);
' "$report"
exit $status
