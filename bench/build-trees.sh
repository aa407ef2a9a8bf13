# Sourced (not run) by the scripts that time two built trees of tbuild against each other on the shared cases:
# bench_setup NAME sets `shared` (the cases), `base` (their base image), `work` (a temporary folder under /var/tmp,
# removed at exit together with the resident builders the trees started there) and `changed` (the file of each case
# that a one-file change edits); tree_command TREE MODE sets `cmd` to how tree TREE (0 or 1 of `trees`) starts a
# build: directly (`node bin/tbuild.js`) or, with MODE launcher, through its launcher and a resident builder of its own.
bench_setup() {
  shared="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/shared/bench"
  base=${TBUILD_BENCH_BASE:-127.0.0.1:5000/library/busybox:latest}
  work=$(mktemp -d "/var/tmp/tbuild-$1-XXXXXX")
  trap bench_stop EXIT
}
bench_stop() {
  for t in 0 1; do node "${trees[$t]}/bin/tbuild.js" daemon stop --socket "$work/daemon-$t/daemon.sock" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
declare -A changed=([tiny]=files/file-05.txt [bigcontext]=app/src/index.js [manysteps]=files/step-10.txt)
tree_command() {
  if [ "$2" = direct ]; then cmd=(node "${trees[$1]}/bin/tbuild.js"); else cmd=(env TBUILD_DAEMON=1 "TBUILD_DAEMON_SOCKET=$work/daemon-$1/daemon.sock" "${trees[$1]}/native/build/tbuild"); fi
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
