#!/usr/bin/env bash
# Times a team's build server under load: N clients (default 8) build N small projects at once, each a context of
# about 2 MB of its own, a `RUN sleep 1` and a local output, each client through its launcher and a resident builder
# of its own (as on N developers' machines; the first build of each starts it), through one `tbuild serve` (a TCP address on loopback,
# its own state folder) and through Docker's BuildKit (Debian's docker.io, started by ../shared/bench/peers/setup.sh),
# alternating the two builders round by round in one run. Cold: each builder's cache emptied first (a fresh state
# folder and server; `docker builder prune -af`); warm: the same builds again, nothing changed. Prints the median
# wall time of the N builds together (the last client's end), single warm builds of one project on the server and
# locally, through the launcher and its resident builder as users run them, and the peak RSS of the server (VmHWM)
# and of dockerd (its VmHWM since it started: cumulative, shown as it was at the end).
#   bench/server-clients.sh [RUNS] [CLIENTS]   (default: 3 runs, 8 clients)
# TBUILD_SERVE_ARGS adds options to `tbuild serve` (e.g. "--max-parallel-builds 2").
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
runs=${1:-3}; clients=${2:-8}
export DOCKER_BUILDKIT=1 DOCKER_API_VERSION=1.41
docker=/usr/bin/docker
$docker info >/dev/null 2>&1 || { echo "server-clients: no Docker engine answers (run ../shared/bench/peers/setup.sh)" >&2; exit 1; }
base=${TBUILD_BENCH_BASE:-127.0.0.1:5000/library/busybox:latest}
work=$(mktemp -d /var/tmp/tbuild-clients-XXXXXX)
port=$((20000 + RANDOM % 20000))
server=
stop_server() {
  [ -n "$server" ] || return 0
  kill -TERM "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  server=
}
cleanup() {
  stop_server
  for d in "$work"/daemon "$work"/client-*; do node bin/tbuild.js daemon stop --socket "$d/daemon.sock" >/dev/null 2>&1 || true; done
  for i in $(seq "$clients"); do $docker rmi -f "clients-bench-$i" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# Projects: 16 files of 128 KiB each, content of its own (seeded by the project's number), the Dockerfile.
for i in $(seq "$clients"); do
  p="$work/p$i"; mkdir -p "$p/src"
  node -e '
    const { createHash } = require("node:crypto"); const { writeFileSync } = require("node:fs");
    const [dir, project] = process.argv.slice(1);
    for (let f = 1; f <= 16; f++) {
      const parts = []; let h = createHash("sha256").update(`project ${project} file ${f}`).digest();
      while (parts.length * 64 < 131072) { parts.push(h.toString("hex")); h = createHash("sha256").update(h).digest(); }
      writeFileSync(`${dir}/f${f}.txt`, parts.join("").slice(0, 131072));
    }' "$p/src" "$i"
  printf 'ARG BASE=%s\nFROM ${BASE}\nCOPY src/ /src/\nRUN sleep 1 && cat /src/*.txt | wc -c > /bytes\n' "$base" >"$p/Dockerfile"
done

start_server() {
  rm -rf "$work/state"
  # shellcheck disable=SC2086
  node bin/tbuild.js serve --addr "tcp://127.0.0.1:$port" --insecure --root "$work/state" ${TBUILD_SERVE_ARGS:-} >"$work/server.log" 2>&1 &
  server=$!
  for _ in $(seq 100); do
    node bin/tbuild.js info --builder "tcp://127.0.0.1:$port" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  cat "$work/server.log" >&2; exit 1
}

# all BUILDER: runs the N builds at once, prints the seconds until the last one ended.
all() {
  local s e pids=() i
  s=$(date +%s.%N)
  for i in $(seq "$clients"); do
    rm -rf "$work/out-$1-$i"
    if [ "$1" = tbuild ]; then
      # Each client as a developer's machine runs it: the launcher and a resident builder of its own.
      env TBUILD_DAEMON=1 TBUILD_DAEMON_SOCKET="$work/client-$i/daemon.sock" native/build/tbuild build --builder "tcp://127.0.0.1:$port" --progress quiet -o "type=local,dest=$work/out-$1-$i" "$work/p$i" >"$work/err-$i" 2>&1 &
    else
      $docker build -q -o "type=local,dest=$work/out-$1-$i" "$work/p$i" >"$work/err-$i" 2>&1 &
    fi
    pids+=($!)
  done
  for i in "${!pids[@]}"; do wait "${pids[$i]}" || { cat "$work/err-$((i + 1))" >&2; exit 1; }; done
  e=$(date +%s.%N)
  for i in $(seq "$clients"); do [ -s "$work/out-$1-$i/bytes" ] || { echo "server-clients: $1 client $i made no output" >&2; exit 1; }; done
  echo "$e - $s" | bc
}

# one COMMAND...: the seconds one build takes.
one() {
  local s e
  s=$(date +%s.%N)
  "$@" >"$work/err-one" 2>&1 || { cat "$work/err-one" >&2; exit 1; }
  e=$(date +%s.%N)
  echo "$e - $s" | bc
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "# $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg), $clients clients at once, $runs runs, alternated${TBUILD_SERVE_ARGS:+, tbuild serve $TBUILD_SERVE_ARGS}"
for r in $(seq "$runs"); do
  for b in $([ $((r % 2)) = 0 ] && echo docker tbuild || echo tbuild docker); do
    if [ "$b" = tbuild ]; then stop_server; start_server; else $docker builder prune -af >/dev/null; fi
    all "$b" >>"$work/cold-$b"
    all "$b" >>"$work/warm-$b"
  done
  # A single warm build of one project as users run it (the launcher, its resident builder), on the server and locally.
  one env TBUILD_DAEMON=1 TBUILD_DAEMON_SOCKET="$work/daemon/daemon.sock" native/build/tbuild build --root "$work/state-local" --progress quiet -o "type=local,dest=$work/one-local" "$work/p1" >/dev/null
  for k in 1 2 3; do
    one env TBUILD_DAEMON=1 TBUILD_DAEMON_SOCKET="$work/daemon/daemon.sock" native/build/tbuild build --builder "tcp://127.0.0.1:$port" --progress quiet -o "type=local,dest=$work/one-remote" "$work/p1" >>"$work/single-remote"
    one env TBUILD_DAEMON=1 TBUILD_DAEMON_SOCKET="$work/daemon/daemon.sock" native/build/tbuild build --root "$work/state-local" --progress quiet -o "type=local,dest=$work/one-local" "$work/p1" >>"$work/single-local"
  done
done
hwm() { awk '/VmHWM/ {printf "%.0f MB", $2 / 1024}' "/proc/$1/status"; }
printf '| scenario | tbuild serve s | BuildKit s | ratio |\n|---|---|---|---|\n'
for s in cold warm; do
  t=$(median <"$work/$s-tbuild"); d=$(median <"$work/$s-docker")
  printf '| %d clients %s | %.2f | %.2f | %.2f |\n' "$clients" "$s" "$t" "$d" "$(echo "$t / $d" | bc -l)"
done
printf '# one warm build of a project through the launcher (medians of %d): remote %.3f s, local %.3f s\n' "$(wc -l <"$work/single-local")" "$(median <"$work/single-remote")" "$(median <"$work/single-local")"
echo "# peak RSS: tbuild serve $(hwm "$server"), dockerd $(hwm "$(pgrep -xo dockerd)") (since it started)"
echo "# end $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
