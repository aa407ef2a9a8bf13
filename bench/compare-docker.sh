#!/usr/bin/env bash
# Times tbuild beside Docker's BuildKit (Debian's docker.io, started by ../shared/bench/peers/setup.sh)
# on the shared cases, alternating the two builders in one run: cold, warm and one-file-change builds.
# tbuild is timed as users run it: the launcher native/build/tbuild, served by a resident builder of this
# run's own (stopped at exit); warm builds are also timed as `node bin/tbuild.js` (the "direct" column).
#   bench/compare-docker.sh [RUNS] [CASES...]      (default: 3 runs; tiny manysteps parallel bigcontext)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
runs=${1:-3}; shift || true
cases=("$@"); [ ${#cases[@]} -gt 0 ] || cases=(tiny manysteps parallel bigcontext)
shared="$(cd .. && pwd)/shared/bench"
export DOCKER_BUILDKIT=1 DOCKER_API_VERSION=1.41
docker=/usr/bin/docker
$docker info >/dev/null 2>&1 || { echo "compare-docker: no Docker engine answers (run $shared/peers/setup.sh)" >&2; exit 1; }
work=$(mktemp -d /var/tmp/tbuild-compare-XXXXXX)
export TBUILD_DAEMON_SOCKET="$work/daemon/daemon.sock" TBUILD_DAEMON=1
trap 'node bin/tbuild.js daemon stop --socket "$TBUILD_DAEMON_SOCKET" >/dev/null 2>&1; rm -rf "$work"' EXIT
base=127.0.0.1:5000/library/busybox:latest
declare -A changed=([tiny]=files/file-05.txt [bigcontext]=app/src/index.js [manysteps]=files/step-10.txt)

secs() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
tb() { native/build/tbuild build --root "$work/root" --progress quiet --build-arg BASE=$base -t "cmp-$1" "$work/$1"; }
tbn() { node bin/tbuild.js build --root "$work/root" --progress quiet --build-arg BASE=$base -t "cmp-$1" "$work/$1"; }
dk() { $docker build -q --build-arg BASE=$base -t "cmp-$1" "$work/$1"; }

# Start the resident builder (the first launcher run starts it) and wait until it listens.
printf 'FROM %s\n' "$base" > "$work/primer.Dockerfile"
native/build/tbuild build --root "$work/root" --progress quiet -f "$work/primer.Dockerfile" "$work" >/dev/null
for _ in $(seq 100); do [ -S "$TBUILD_DAEMON_SOCKET" ] && break; sleep 0.1; done

printf '| case | scenario | tbuild s | docker s | tbuild/docker | direct s | direct/docker |\n|---|---|---|---|---|---|---|\n'
for c in "${cases[@]}"; do
  sh "$shared/make-context.sh" "$c" "$work/$c" >/dev/null
  for scenario in cold warm change; do
    [ "$scenario" = change ] && [ -z "${changed[$c]:-}" ] && continue
    t=(); d=(); n=()
    for i in $(seq "$runs"); do
      if [ "$scenario" = cold ]; then
        rm -rf "$work/root"
        native/build/tbuild build --root "$work/root" --progress quiet -f "$work/primer.Dockerfile" "$work" >/dev/null
        t+=("$(secs tb "$c")")
        $docker rmi -f "cmp-$c" >/dev/null 2>&1 || true; $docker builder prune -af >/dev/null 2>&1
        d+=("$(secs dk "$c")")
      elif [ "$scenario" = warm ]; then
        tb "$c" >/dev/null 2>&1; dk "$c" >/dev/null 2>&1
        t+=("$(secs tb "$c")"); d+=("$(secs dk "$c")"); n+=("$(secs tbn "$c")")
      else
        echo "change $i $RANDOM" >> "$work/$c/${changed[$c]}"
        t+=("$(secs tb "$c")"); d+=("$(secs dk "$c")")
      fi
    done
    tm=$(printf '%s\n' "${t[@]}" | median); dm=$(printf '%s\n' "${d[@]}" | median)
    if [ ${#n[@]} -gt 0 ]; then
      nm=$(printf '%s\n' "${n[@]}" | median)
      direct=$(printf '%.3f | %.2f' "$nm" "$(echo "$nm / $dm" | bc -l)")
    else direct='- | -'; fi
    printf '| %s | %s | %.3f | %.3f | %.2f | %s |\n' "$c" "$scenario" "$tm" "$dm" "$(echo "$tm / $dm" | bc -l)" "$direct"
  done
done
