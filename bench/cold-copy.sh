#!/usr/bin/env bash
# Times cold builds of the shared bigcontext case against `cp -a` of the same context, in one run, alternating:
#   bench/cold-copy.sh [RUNS] [OTHER_TREE]
# Each round copies the context with `cp -a` to a fresh folder on the same disk (the floor: the page cache is
# warm for both, nothing is dropped), then builds it cold with this tree (and OTHER_TREE, a built tbuild tree such as
# a worktree of a base commit, when given): a fresh --root whose base image was pulled by an untimed primer build.
# The order of the contenders turns each round. Prints min/median/max of the whole build, of its context load
# (`loading context ... done`) and of its COPY step, the ratio of the medians to cp -a, and the load average before
# and after (the machine may be shared: say so with the figures). Needs the loopback registry (127.0.0.1:5000).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-5}
other=${2:-}
registry=${TBUILD_BENCH_REGISTRY:-127.0.0.1:5000}
shared=$(cd "$here/../shared/bench" && pwd)
work=$(mktemp -d "${TMPDIR:-/var/tmp}/tbuild-cold-copy-XXXXXX")
trap 'rm -rf "$work"' EXIT

sh "$shared/make-context.sh" bigcontext "$work/ctx" >/dev/null
mkdir -p "$work/primer"
echo "FROM $registry/library/busybox:latest" >"$work/primer/Dockerfile"
trees=("$here")
[ -n "$other" ] && trees+=("$(cd "$other" && pwd)")

now() { date +%s.%N; }
# record NAME SECONDS appends a figure to NAME's list.
record() { echo "$2" >>"$work/fig-$1"; }

time_cp() {
  local t0
  t0=$(now)
  cp -a "$work/ctx" "$work/cp"
  record cp "$(echo "$(now) - $t0" | bc)"
  rm -rf "$work/cp"
}

# time_build I: a cold build of the context with tree I.
time_build() {
  local tree=${trees[$1]} root="$work/root" log="$work/build.log" t0
  rm -rf "$root"
  node "$tree/bin/tbuild.js" build --root "$root" --progress quiet "$work/primer" >/dev/null
  t0=$(now)
  node "$tree/bin/tbuild.js" build --root "$root" --progress plain --build-arg "BASE=$registry/library/busybox:latest" \
    -t bench-cold-copy "$work/ctx" >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
  record "build$1" "$(echo "$(now) - $t0" | bc)"
  record "context$1" "$(awk '/loading context: .* done$/ { t = $(NF - 1) } END { sub(/s$/, "", t); print t }' "$log")"
  record "copy$1" "$(awk '/ COPY \. \/app\/$/ { id = $1 } id != "" && $1 == id && $2 == "DONE" { t = $3 } END { sub(/s$/, "", t); print t }' "$log")"
  rm -rf "$root"
}

stats() { sort -g "$work/fig-$1" | awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.2f %.2f %.2f\n", v[1], m, v[NR] }'; }

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
contenders=(cp)
for i in "${!trees[@]}"; do contenders+=("$i"); done
for ((r = 0; r < runs; r++)); do
  n=${#contenders[@]}
  for ((k = 0; k < n; k++)); do
    c=${contenders[$(((k + r) % n))]}
    if [ "$c" = cp ]; then time_cp; else time_build "$c"; fi
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

read -r _ cp_med _ <<<"$(stats cp)"
echo "figures: min median max (seconds) over $runs runs"
echo "cp -a                     $(stats cp)"
for i in "${!trees[@]}"; do
  read -r _ med _ <<<"$(stats "build$i")"
  echo "${trees[$i]}"
  echo "  build (whole)           $(stats "build$i")   median $(echo "scale=2; $med / $cp_med" | bc)x cp -a"
  echo "  context load            $(stats "context$i")"
  echo "  COPY step               $(stats "copy$i")"
done
