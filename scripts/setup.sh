#!/usr/bin/env bash
# Installs what tbuild and its tests need on a Debian machine (as root), then builds tbuild.
# Idempotent: packages already present are not fetched again, and a built tree is rebuilt only when needed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PACKAGES=(busybox-static docker.io qemu-user-static binfmt-support debootstrap docker-registry skopeo umoci oci-image-tool runc crun curl gcc make libc6-dev zstd pigz openssl bzip2 xz-utils git openssh-client iproute2 slirp4netns tmux zsh fish uidmap fuse-overlayfs chromium)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# kubectl renders deploy/kubernetes (kubectl kustomize); Debian's kubernetes-client has one, unless another is there.
command -v kubectl >/dev/null || missing+=(kubernetes-client)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Emulated platforms run through qemu-user-static's binfmt_misc handlers: binfmt-support mounts the file system and
# enables them when it is installed, not when a machine boots with the packages already there.
if [ "$(id -u)" = 0 ] && [ ! -e /proc/sys/fs/binfmt_misc/status ]; then
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null || echo "setup: cannot mount binfmt_misc: builds for other platforms will fail" >&2
fi
if [ "$(id -u)" = 0 ] && [ -e /proc/sys/fs/binfmt_misc/status ] && [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
  update-binfmts --enable >/dev/null 2>&1 || echo "setup: cannot enable the qemu-user-static handlers" >&2
fi

# Rootless builds open /dev/net/tun (slirp4netns) and /dev/fuse (fuse-overlayfs) as the user. udev makes both 0666
# on a Debian system; a machine without udev (a micro-VM, a container) leaves them 0600, as root's only.
if [ "$(id -u)" = 0 ]; then
  for dev in /dev/net/tun /dev/fuse; do
    if [ -c "$dev" ] && [ "$(stat -c %a "$dev")" = 600 ]; then chmod 0666 "$dev"; fi
  done
fi

# The tests' multi-platform base image is made from Debian's busybox-static of each architecture: fetch them once
# (cached in /var/cache/tbuild/debs; later runs download nothing).
./scripts/busybox-debs.sh amd64 arm64 armhf >/dev/null

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # npm install, not npm ci: npm 11's ci rejects lmdb's platform-specific optional packages as missing from
  # the lock file even when the lock is fresh; install honours the lock and fetches this platform's packages.
  npm install --no-audit --no-fund --loglevel=error
fi
npm run --silent build

# Put the launcher on PATH as `tbuild` (it forwards builds to the resident builder; see README). An existing
# /usr/local/bin/tbuild is replaced only when it is a link to a tbuild launcher.
launcher="$(pwd)/native/build/tbuild"
link=/usr/local/bin/tbuild
if [ "$(id -u)" = 0 ] && [ -x "$launcher" ]; then
  if [ ! -e "$link" ] && [ ! -L "$link" ]; then
    ln -s "$launcher" "$link"
  elif [ -L "$link" ] && [ "$(readlink "$link")" != "$launcher" ] && [[ "$(readlink "$link")" == */native/build/tbuild ]]; then
    ln -sfn "$launcher" "$link"
  fi
fi
