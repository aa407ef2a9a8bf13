#!/usr/bin/env bash
# Times an emulated linux/arm64 build of a small RUN-heavy Dockerfile with tbuild, Docker's BuildKit and buildah,
# alternating the three in one run under the same binfmt registration (Debian's qemu-user-static). Every build runs
# all its steps (--no-cache); the base, a busybox index for amd64/arm64/armhf made offline from Debian's packages, is
# pushed to the loopback registry and already pulled by a first round that is not timed. Prints medians and ratios.
#   bench/emulated.sh [RUNS]      (default 5; needs ../shared/bench/peers/setup.sh's dockerd and registry on :5000)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
runs=${1:-5}
registry=127.0.0.1:5000
export DOCKER_BUILDKIT=1 DOCKER_API_VERSION=1.41
docker=/usr/bin/docker
die() { echo "emulated: $*" >&2; exit 1; }
$docker info >/dev/null 2>&1 || die "no Docker engine answers (run ../shared/bench/peers/setup.sh)"
command -v buildah >/dev/null || die "buildah is not installed (run ../shared/bench/peers/setup.sh)"
grep -q enabled /proc/sys/fs/binfmt_misc/qemu-aarch64 2>/dev/null || die "no aarch64 binfmt registration (apt-get install qemu-user-static binfmt-support)"
node scripts/multiarch-busybox.mjs push "$registry" library/busybox-multiarch

work=$(mktemp -d /var/tmp/tbuild-emulated-XXXXXX)
trap 'rm -rf "$work"; $docker rmi -f emu-bench >/dev/null 2>&1 || true; buildah rmi -f emu-bench >/dev/null 2>&1 || true' EXIT
cat > "$work/Dockerfile" <<DOCKERFILE
FROM $registry/library/busybox-multiarch
RUN uname -m > /machine
RUN i=0; while [ \$i -lt 3000 ]; do echo "line \$i"; i=\$((i+1)); done | md5sum > /sum
RUN dd if=/dev/zero bs=1k count=8192 2>/dev/null | gzip -c | wc -c > /gzip-size
RUN find / -xdev -type l | wc -l > /links
RUN mkdir -p /tree && cd /tree && for d in a b c d e f g h; do mkdir \$d; for f in 1 2 3 4 5 6 7 8; do echo \$d\$f > \$d/\$f; done; done
RUN tar -cf - /tree | md5sum > /tree.sum
RUN sha256sum /bin/busybox > /busybox.sum
RUN awk 'BEGIN { s = 0; for (i = 0; i < 200000; i++) s += i % 7; print s }' > /awk
DOCKERFILE

# secs CMD prints how long CMD took; a failed build stops the benchmark with its error.
secs() {
  local s e
  s=$(date +%s.%N)
  "$@" >/dev/null 2>"$work/last.err" || { cat "$work/last.err" >&2; die "$1 failed"; }
  e=$(date +%s.%N)
  echo "$e - $s" | bc
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
tb() { node bin/tbuild.js build --root "$work/root" --progress quiet --no-cache --platform linux/arm64 -t emu-bench "$work"; }
dk() { $docker build -q --no-cache --platform linux/arm64 -t emu-bench "$work"; }
bh() { buildah build --quiet --no-cache --tls-verify=false --platform linux/arm64 -t emu-bench "$work"; }

# An untimed round pulls the base into each builder's store and checks each builds the arm64 image. Docker 20.10
# is given the arm64 image by an explicit pull: its BuildKit may otherwise reuse a tag it pulled for another platform.
$docker pull -q --platform linux/arm64 "$registry/library/busybox-multiarch" >/dev/null
secs tb >/dev/null || exit 1; secs dk >/dev/null || exit 1; secs bh >/dev/null || exit 1
t=(); d=(); b=()
for _ in $(seq "$runs"); do
  v=$(secs tb) || exit 1; t+=("$v")
  v=$(secs dk) || exit 1; d+=("$v")
  v=$(secs bh) || exit 1; b+=("$v")
done
tm=$(printf '%s\n' "${t[@]}" | median); dm=$(printf '%s\n' "${d[@]}" | median); bm=$(printf '%s\n' "${b[@]}" | median)
printf '| emulated linux/arm64, %s runs | tbuild s | docker s | buildah s | tbuild/docker | tbuild/buildah |\n' "$runs"
printf '|---|---|---|---|---|---|\n'
printf '| 8 RUN steps, --no-cache | %.2f | %.2f | %.2f | %.2f | %.2f |\n' "$tm" "$dm" "$bm" "$(echo "$tm / $dm" | bc -l)" "$(echo "$tm / $bm" | bc -l)"
