#!/usr/bin/env bash
# Times two built trees of tbuild against each other on the shared cases (warm and one-file-change builds), alternating
# them build by build in one run, so that the load of a shared machine weighs on both alike. Each tree builds as
# `node bin/tbuild.js` (direct start: Node's start and the bundle's loading every build) and through its launcher
# native/build/tbuild served by a resident builder of this run's own (stopped at exit). Prints the medians of wall
# time and, for direct starts, of CPU time (user + system of the build and its children: steady under load where wall
# time is not; through the launcher the work is the resident builder's, so only wall time is shown), per tree, with
# the second tree's ratio to the first.
#   bench/compare-builds.sh BEFORE_TREE AFTER_TREE [RUNS] [CASES...]   (default: 10 runs; tiny manysteps bigcontext)
# A tree is a checkout after `npm run build` (git worktree add --detach DIR COMMIT, node_modules linked, built).
# TBUILD_BENCH_NETWORK=host builds with --network host: RUN steps then share the host's network instead of each
# getting a network namespace of its own, which separates that cost from the rest.
# TBUILD_BENCH_CONFIGS="BEFORE.toml AFTER.toml" builds each tree with its own settings file (--config): one tree given
# twice then compares two settings, e.g. build records off against on ([history] enabled = false / true).
set -euo pipefail
[ $# -ge 2 ] || { sed -n 2,12p "$0" >&2; exit 2; }
trees=("$(cd "$1" && pwd)" "$(cd "$2" && pwd)"); shift 2
runs=${1:-10}; shift || true
cases=("$@"); [ ${#cases[@]} -gt 0 ] || cases=(tiny manysteps bigcontext)
. "$(dirname "${BASH_SOURCE[0]}")/build-trees.sh"
bench_setup compare-builds
network=()
[ -n "${TBUILD_BENCH_NETWORK:-}" ] && network=(--network "$TBUILD_BENCH_NETWORK")
configs=()
[ -n "${TBUILD_BENCH_CONFIGS:-}" ] && read -r -a configs <<<"$TBUILD_BENCH_CONFIGS"
[ ${#configs[@]} = 0 ] || [ ${#configs[@]} = 2 ] || { echo "TBUILD_BENCH_CONFIGS names two settings files" >&2; exit 2; }

# one TREE MODE CASE: runs one build, appends "wall cpu" to $work/times.
one() {
  local t=$1 mode=$2 c=$3
  tree_command "$t" "$mode"
  local s e
  s=$(date +%s.%N)
  local config=()
  [ ${#configs[@]} = 0 ] || config=(--config "$(cd "$(dirname "${configs[$t]}")" && pwd)/$(basename "${configs[$t]}")")
  /usr/bin/time -f '%U %S' -o "$work/cpu" "${cmd[@]}" build "${config[@]}" --root "$work/root-$t-$c" --progress quiet --build-arg "BASE=$base" "${network[@]}" -t "cmp-$c" "$work/$c" >/dev/null 2>"$work/err" ||
    { cat "$work/err" >&2; exit 1; }
  e=$(date +%s.%N)
  echo "$(echo "$e - $s" | bc) $(awk '{print $1 + $2}' "$work/cpu")"
}

echo "# $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg), $runs runs after 2 warm-up builds, alternated${network[*]:+, ${network[*]}}${configs[*]:+, settings ${configs[*]}}"
printf '| case | scenario | start | wall s (before / after = ratio) | CPU s (before / after = ratio) |\n|---|---|---|---|---|\n'
for c in "${cases[@]}"; do
  sh "$shared/make-context.sh" "$c" "$work/$c" >/dev/null
  for t in 0 1; do one "$t" direct "$c" >/dev/null; done   # cold build: fills each tree's cache
  for mode in direct launcher; do
    for scenario in warm change; do
      : >"$work/t0"; : >"$work/t1"
      for i in $(seq $((runs + 2))); do
        [ "$scenario" = change ] && echo "change $i $RANDOM" >>"$work/$c/${changed[$c]}"
        # Alternate which tree goes first; after a change each tree builds the changed file once.
        for t in $([ $((i % 2)) = 0 ] && echo 0 1 || echo 1 0); do
          r=$(one "$t" "$mode" "$c")
          [ "$i" -gt 2 ] && echo "$r" >>"$work/t$t"
        done
      done
      w0=$(cut -d' ' -f1 "$work/t0" | median); w1=$(cut -d' ' -f1 "$work/t1" | median)
      c0=$(cut -d' ' -f2 "$work/t0" | median); c1=$(cut -d' ' -f2 "$work/t1" | median)
      cpu='(resident builder)'
      [ "$mode" = direct ] && cpu=$(printf '%.3f / %.3f = %.2f' "$c0" "$c1" "$(echo "$c1 / $c0" | bc -l)")
      # Builds under 0.1 s (warm, through the launcher) are shown to a tenth of a millisecond.
      fmt=%.3f; [ "$(echo "$w0 < 0.1" | bc)" = 1 ] && fmt=%.4f
      printf "| %s | %s | %s | $fmt / $fmt = %.2f | %s |\n" "$c" "$scenario" "$mode" "$w0" "$w1" "$(echo "$w1 / $w0" | bc -l)" "$cpu"
    done
  done
done
echo "# end $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
