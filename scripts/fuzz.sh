#!/usr/bin/env bash
# Runs the fuzz targets of test/fuzz longer than the test suite does.
#   FUZZ_SECONDS=N  run each property for about N seconds (default 60)
#   FUZZ_RUNS=N     run each property N times instead of for a time
#   FUZZ_SEED=N     another seed than the suite's fixed one (fast-check prints the seed and the shrunk input on failure)
# Arguments name test files to run (default: all of test/fuzz).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ -z "${FUZZ_RUNS:-}" ]; then export FUZZ_SECONDS="${FUZZ_SECONDS:-60}"; fi
export FUZZ_SEED="${FUZZ_SEED:-$(date +%s)}"
echo "fuzz: seed ${FUZZ_SEED}, ${FUZZ_RUNS:+${FUZZ_RUNS} runs}${FUZZ_RUNS:-${FUZZ_SECONDS} s} per property" >&2
if [ "$#" -eq 0 ]; then set -- test/fuzz; fi
exec npx vitest run --maxWorkers=1 "$@"
