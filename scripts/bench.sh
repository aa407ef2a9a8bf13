#!/usr/bin/env bash
# Runs tbuild's benchmarks on the shared cases against a seeded loopback registry on 127.0.0.1:5000.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
./scripts/setup.sh
./scripts/registry.sh start 5000 >/dev/null
node dist/bench/run.js "$@"
