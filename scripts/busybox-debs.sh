#!/usr/bin/env bash
# Fetches Debian's busybox-static package for each given Debian architecture (amd64, arm64, armhf, ...) into a
# cache folder, once: later runs find the .deb there and download nothing. Prints the path of each .deb, one a line,
# in the order asked.
#
#   scripts/busybox-debs.sh ARCH...
#
# The cache is $TBUILD_DEB_CACHE (default /var/cache/tbuild/debs). Several test workers may run this at once: they
# take turns on a lock in the cache folder. Foreign architectures are added to dpkg (dpkg --add-architecture) and
# the package lists updated only when a package is missing. Needs root, apt-get and dpkg.
set -euo pipefail

CACHE="${TBUILD_DEB_CACHE:-/var/cache/tbuild/debs}"
PACKAGE=busybox-static

die() { echo "busybox-debs.sh: $*" >&2; exit 1; }

[ $# -gt 0 ] || die "usage: $0 ARCH..."
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9

cached() { # ARCH -> path of the cached .deb, if any
  local f
  for f in "$CACHE/${PACKAGE}_"*"_$1.deb"; do
    [ -f "$f" ] && { echo "$f"; return 0; }
  done
  return 1
}

missing=()
for arch in "$@"; do
  case "$arch" in ''|*[!a-z0-9]*) die "invalid architecture \"$arch\"" ;; esac
  cached "$arch" >/dev/null || missing+=("$arch")
done

if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || die "missing prerequisite apt-get (a Debian machine)"
  native="$(dpkg --print-architecture)"
  foreign="$(dpkg --print-foreign-architectures)"
  for arch in "${missing[@]}"; do
    if [ "$arch" != "$native" ] && ! grep -qx "$arch" <<<"$foreign"; then
      dpkg --add-architecture "$arch"
    fi
  done
  apt-get update -qq -o APT::Update::Error-Mode=any >&2 || die "apt-get update failed"
  tmp="$(mktemp -d "$CACHE/.download-XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  for arch in "${missing[@]}"; do
    (cd "$tmp" && apt-get download -qq -o APT::Sandbox::User=root "$PACKAGE:$arch" >&2) || die "cannot download $PACKAGE:$arch"
    deb="$(find "$tmp" -maxdepth 1 -name "${PACKAGE}_*_$arch.deb" | head -n 1)"
    [ -n "$deb" ] || die "apt-get download left no $PACKAGE .deb for $arch"
    # Cached under the name Debian's pool uses (the epoch's colon is escaped as %3a by apt).
    mv "$deb" "$CACHE/$(basename "$deb")"
  done
fi

for arch in "$@"; do
  cached "$arch" || die "no cached $PACKAGE for $arch"
done
