#!/usr/bin/env bash
# Runs the store soak: N builds (default 500, at most 30 minutes) through one tbuild serve from C clients at once
# (default 8), a mix of cached, changed, failing and cancelled builds with periodic prunes, then checks the store's
# size and the builder's RSS and descriptors stay bounded, check-store finds nothing and no mount or process is left
# (see bench/soak.ts). With a fourth argument `resident`, the builds go through the launcher to a resident builder
# instead (collection then runs in processes of its own beside it). As root, after `npm run build`, with the loopback
# registry serving busybox.
#   bench/soak.sh [N] [MINUTES] [CLIENTS] [resident]     (TBUILD_BENCH_REGISTRY: the registry, default 127.0.0.1:5000)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
args=(--builds "${1:-500}" --minutes "${2:-30}" --clients "${3:-8}" --registry "${TBUILD_BENCH_REGISTRY:-127.0.0.1:5000}")
[ "${4:-}" = resident ] && args+=(--resident)
exec node dist/bench/soak.js "${args[@]}"
