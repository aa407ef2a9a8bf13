#!/usr/bin/env bash
# Runs tbuild's static checks (all, or those named) and prints one line per check; exits with the number that failed.
#   types   tsc over the sources and the tests (tsconfig.test.json)
#   lint    oxlint's type-aware rules (.oxlintrc.json): floating and misused promises, exhaustive switches
#   layers  dependency-cruiser over the layer table (tools/layers/dependency-cruiser.cjs; see CONTRIBUTING.md)
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ ! -d tools/layers/node_modules ] || [ tools/layers/package-lock.json -nt tools/layers/node_modules/.package-lock.json ]; then
  npm install --prefix tools/layers --no-audit --no-fund --loglevel=error >/dev/null
fi

CHECKS=("${@:-types lint layers}")
CHECKS=(${CHECKS[*]})
SOURCES=(base cli controller frontend solver cache executor exporter registry native remote index.ts)
failed=0
check() {
  local name="$1"; shift
  local out
  [[ " ${CHECKS[*]} " == *" ${name} "* ]] || return 0
  if out="$("$@" 2>&1)"; then
    echo "check ${name}: ok"
  else
    printf '%s\n' "$out"
    echo "check ${name}: FAILED"
    failed=$((failed + 1))
  fi
}
check types npx tsc -p tsconfig.test.json
check lint npx oxlint --type-aware --deny-warnings --tsconfig tsconfig.test.json -c .oxlintrc.json "${SOURCES[@]}" test bench examples
check layers tools/layers/node_modules/.bin/depcruise --config tools/layers/dependency-cruiser.cjs --output-type err "${SOURCES[@]}"
exit "$failed"
