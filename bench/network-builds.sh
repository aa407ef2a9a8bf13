#!/usr/bin/env bash
# Times one-file-change builds of a shared case on the default network against --network host, for two built trees of
# tbuild, in one run: every round changes the file, then each of the four (tree, network) pairs builds it once, in an
# order that rotates round by round, so the load of a shared machine weighs on all alike. Builds start directly
# (`node bin/tbuild.js`) or, with MODE launcher, through each tree's launcher and a resident builder of this run's own
# (stopped at exit). Prints the median wall time of each pair (and the fastest: under load, the steadier) and, for direct starts, of CPU time (user + system of the
# build and its children, slirp4netns included: steadier under load than wall time), the default network's ratio to
# the host's per tree, and the second tree's ratio to the first per network.
#   bench/network-builds.sh BEFORE_TREE AFTER_TREE [RUNS] [CASE] [MODE]   (default: 10 runs, manysteps, direct)
# A tree is a checkout after `npm run build` (git worktree add --detach DIR COMMIT, node_modules linked, built).
set -euo pipefail
[ $# -ge 2 ] || { sed -n 2,9p "$0" >&2; exit 2; }
trees=("$(cd "$1" && pwd)" "$(cd "$2" && pwd)"); shift 2
runs=${1:-10}; c=${2:-manysteps}; mode=${3:-direct}
. "$(dirname "${BASH_SOURCE[0]}")/build-trees.sh"
bench_setup network-builds
networks=(default host)

# one TREE NETWORK: builds the case once, prints the wall and CPU time in seconds.
one() {
  local t=$1 n=$2 s e
  tree_command "$t" "$mode"
  s=$(date +%s.%N)
  /usr/bin/time -f '%U %S' -o "$work/cpu" "${cmd[@]}" build --root "$work/root-$t-$n" --network "$n" --progress quiet --build-arg "BASE=$base" -t "net-$c" "$work/$c" >/dev/null 2>"$work/err" ||
    { cat "$work/err" >&2; exit 1; }
  e=$(date +%s.%N)
  echo "$(echo "$e - $s" | bc) $(awk '{print $1 + $2}' "$work/cpu")"
}

echo "# $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg), $c one-file change, $mode start, $runs runs after 2 warm-up rounds"
sh "$shared/make-context.sh" "$c" "$work/$c" >/dev/null
pairs=("0 default" "0 host" "1 default" "1 host")
for p in "${pairs[@]}"; do one $p >/dev/null; : >"$work/t-${p/ /-}"; done   # cold build: fills each pair's cache
for i in $(seq $((runs + 2))); do
  echo "change $i $RANDOM" >>"$work/$c/${changed[$c]}"
  for k in 0 1 2 3; do
    p=${pairs[$(((i + k) % 4))]}
    r=$(one $p)
    [ "$i" -gt 2 ] && echo "$r" >>"$work/t-${p/ /-}"
  done
done
declare -A w u f
for p in "${pairs[@]}"; do
  w[$p]=$(cut -d' ' -f1 "$work/t-${p/ /-}" | median)
  f[$p]=$(cut -d' ' -f1 "$work/t-${p/ /-}" | sort -n | head -1)
  u[$p]=$(cut -d' ' -f2 "$work/t-${p/ /-}" | median)
done
ratio() { echo "$1 / $2" | bc -l; }
printf '| tree | wall s: default / host = ratio | CPU s: default / host = ratio |\n|---|---|---|\n'
for t in 0 1; do
  cpu='(resident builder)'
  [ "$mode" = direct ] && cpu=$(printf '%.3f / %.3f = %.2f' "${u[$t default]}" "${u[$t host]}" "$(ratio "${u[$t default]}" "${u[$t host]}")")
  printf '| %s | %.3f / %.3f = %.2f | %s |\n' "$([ $t = 0 ] && echo before || echo after)" "${w[$t default]}" "${w[$t host]}" "$(ratio "${w[$t default]}" "${w[$t host]}")" "$cpu"
done
for t in 0 1; do
  printf '# fastest wall s, %s: %.3f / %.3f = %.2f\n' "$([ $t = 0 ] && echo before || echo after)" "${f[$t default]}" "${f[$t host]}" "$(ratio "${f[$t default]}" "${f[$t host]}")"
done
for n in "${networks[@]}"; do
  printf '# %s network, after / before: wall %.2f (fastest %.2f)' "$n" "$(ratio "${w[1 $n]}" "${w[0 $n]}")" "$(ratio "${f[1 $n]}" "${f[0 $n]}")"
  [ "$mode" = direct ] && printf ', CPU %.2f' "$(ratio "${u[1 $n]}" "${u[0 $n]}")"
  echo
done
echo "# end $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
