#!/usr/bin/env bash
# Times warm builds of tbuild as an npm install runs it beside Docker's BuildKit, alternating them build by build in
# one run: the package packed from this built tree is installed with `npm install -g` (from a loopback npm registry
# made from this checkout's node_modules, as test/integration/npm-install.test.ts does: nothing is downloaded) and
# timed through its `tbuild` command (the launcher npm install built, served by a resident builder of this run's own),
# through `node <package>/bin/launcher.js` (what that command runs when npm install had no compiler, served by the
# same resident builder), as `node <package>/bin/tbuild.js` (a build in a Node process of its own) and with
# `docker build`.
#   bench/npm-install.sh [RUNS] [CASE]      (default: 15 runs of tiny; ../shared/bench/peers/setup.sh starts Docker)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
runs=${1:-15}
case=${2:-tiny}
shared="$(cd .. && pwd)/shared/bench"
export DOCKER_BUILDKIT=1 DOCKER_API_VERSION=1.41
docker=/usr/bin/docker
$docker info >/dev/null 2>&1 || { echo "npm-install: no Docker engine answers (run $shared/peers/setup.sh)" >&2; exit 1; }
work=$(mktemp -d /var/tmp/tbuild-npm-bench-XXXXXX)
registry_pid=
cleanup() {
  node "$work/prefix/lib/node_modules/tbuild/bin/tbuild.js" daemon stop --socket "$work/daemon/daemon.sock" >/dev/null 2>&1 || true
  [ -z "$registry_pid" ] || kill "$registry_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
export TBUILD_DAEMON_SOCKET="$work/daemon/daemon.sock" XDG_CACHE_HOME="$work/xdg-cache"
unset TBUILD_DAEMON TBUILD_NODE
base=127.0.0.1:5000/library/busybox:latest

# The loopback npm registry, then the install.
node_modules/.bin/esbuild test/fixtures/npm-registry.ts --bundle --platform=node --format=esm --log-level=warning --outfile="$work/registry.mjs"
node --input-type=module -e "const { startNpmRegistry } = await import('$work/registry.mjs'); const r = await startNpmRegistry(process.cwd()); console.log(r.url);" >"$work/registry.url" &
registry_pid=$!
for _ in $(seq 100); do [ -s "$work/registry.url" ] && break; sleep 0.1; done
touch "$work/npmrc" "$work/npmrc-global"
npm pack --ignore-scripts --silent --pack-destination "$work" >/dev/null
env $(env | grep -o '^npm_[^=]*' | sed 's/^/-u /') npm install -g --prefix "$work/prefix" --registry "$(cat "$work/registry.url")" \
  --cache "$work/npm-cache" --userconfig "$work/npmrc" --globalconfig "$work/npmrc-global" --no-audit --no-fund --no-update-notifier \
  --loglevel=error "$work"/tbuild-*.tgz >/dev/null
kill "$registry_pid"; registry_pid=
tbuild="$work/prefix/bin/tbuild"
entry="$work/prefix/lib/node_modules/tbuild/bin/tbuild.js"
js_launcher="$work/prefix/lib/node_modules/tbuild/bin/launcher.js"
[ -x "$work/prefix/lib/node_modules/tbuild/native/build/tbuild" ] || { echo "npm-install: npm install built no launcher" >&2; exit 1; }

sh "$shared/make-context.sh" "$case" "$work/$case" >/dev/null
secs() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
tl() { "$tbuild" build --root "$work/root" --progress quiet --build-arg BASE=$base -t "npm-$case" "$work/$case"; }
tj() { node "$js_launcher" build --root "$work/root" --progress quiet --build-arg BASE=$base -t "npm-$case" "$work/$case"; }
tn() { node "$entry" build --root "$work/root" --progress quiet --build-arg BASE=$base -t "npm-$case" "$work/$case"; }
dk() { $docker build -q --build-arg BASE=$base -t "npm-$case" "$work/$case"; }

# Warm all three (the first launcher build starts the resident builder; wait until it listens).
tl >/dev/null 2>&1; dk >/dev/null 2>&1
for _ in $(seq 100); do [ -S "$TBUILD_DAEMON_SOCKET" ] && break; sleep 0.1; done
tl >/dev/null 2>&1; tj >/dev/null 2>&1; tn >/dev/null 2>&1; tn >/dev/null 2>&1
grep -q 'build served' "$work/daemon/daemon.log" || { echo "npm-install: the resident builder served no build" >&2; exit 1; }
l=(); j=(); n=(); d=()
for _ in $(seq "$runs"); do
  l+=("$(secs tl)"); j+=("$(secs tj)"); n+=("$(secs tn)"); d+=("$(secs dk)")
done
med() { printf '%s\n' "$@" | median; }
lm=$(med "${l[@]}"); jm=$(med "${j[@]}"); nm=$(med "${n[@]}"); dm=$(med "${d[@]}")
ratio() { printf '%.2f' "$(echo "$1 / $dm" | bc -l)"; }
printf '| case | runs | tbuild (C launcher) s | node bin/launcher.js s | node bin/tbuild.js s | docker s | C / docker | launcher.js / docker | tbuild.js / docker |\n'
printf '|---|---|---|---|---|---|---|---|---|\n'
printf '| %s | %s | %.3f | %.3f | %.3f | %.3f | %s | %s | %s |\n' "$case" "$runs" "$lm" "$jm" "$nm" "$dm" "$(ratio "$lm")" "$(ratio "$jm")" "$(ratio "$nm")"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
