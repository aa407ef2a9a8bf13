#!/usr/bin/env bash
# Runs the store fault loop N times (default 100): builds killed with SIGKILL at random moments, each followed by a
# store check, a build compared with a clean one, and a look for processes, mounts and cgroups left behind (see
# bench/fault-loop.ts). As root, after `npm run build`, with the loopback registry serving busybox.
#   bench/fault-loop.sh [N] [SEED]     (TBUILD_BENCH_REGISTRY: the registry, default 127.0.0.1:5000)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
args=(--kills "${1:-100}" --registry "${TBUILD_BENCH_REGISTRY:-127.0.0.1:5000}")
[ -n "${2:-}" ] && args+=(--seed "$2")
exec node dist/bench/fault-loop.js "${args[@]}"
