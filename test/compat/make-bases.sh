#!/usr/bin/env bash
# make-bases.sh REGISTRY_HOST : makes the compatibility corpus's base images and pushes them to REGISTRY_HOST as
# library/busybox:latest and library/debian:bookworm (plain HTTP). They are laid out exactly as the machine that
# recorded the expectations made them (the peers' setup): the same steps, the same tools.
#
#   busybox          Debian's static busybox at /bin/busybox, `busybox --install -s` links, /etc/passwd, /etc/group
#   debian:bookworm  debootstrap --variant=minbase bookworm from deb.debian.org, trimmed like the official image
#
# Both are one-layer OCI layouts packed with umoci and cached under $TBUILD_COMPAT_CACHE (default
# /var/cache/tbuild-compat), so only the first run bootstraps Debian (about a minute). Needs root, umoci, skopeo,
# debootstrap and busybox-static.
set -euo pipefail
REG=${1:?usage: make-bases.sh REGISTRY_HOST}
CACHE=${TBUILD_COMPAT_CACHE:-/var/cache/tbuild-compat}
mkdir -p "$CACHE"
exec 9>"$CACHE/lock"
flock 9

for tool in umoci skopeo debootstrap chroot; do
  command -v "$tool" >/dev/null || { echo "make-bases: $tool is missing (scripts/setup.sh installs it)" >&2; exit 1; }
done
[ -x /bin/busybox ] || { echo "make-bases: /bin/busybox is missing (install busybox-static)" >&2; exit 1; }

# pack_rootfs ROOTFS OCIDIR TAG CMD : one-layer OCI image from a directory
pack_rootfs() {
  local rootfs=$1 oci=$2 tag=$3 cmd=$4 bundle
  bundle="$oci.bundle"
  rm -rf "$oci" "$bundle"
  umoci init --layout "$oci"
  umoci new --image "$oci:$tag"
  umoci unpack --image "$oci:$tag" "$bundle" >/dev/null
  cp -a "$rootfs/." "$bundle/rootfs/"
  umoci repack --image "$oci:$tag" "$bundle"
  umoci config --image "$oci:$tag" --os linux --architecture amd64 \
    --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --config.cmd "$cmd" --config.workingdir /
  umoci gc --layout "$oci"
  rm -rf "$bundle"
}

if [ ! -e "$CACHE/busybox/.done" ]; then
  R="$CACHE/busybox/rootfs"
  rm -rf "$CACHE/busybox"; mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,etc,root,tmp,var/tmp,proc,sys,dev,home}
  install -m 0755 /bin/busybox "$R/bin/busybox"
  chroot "$R" /bin/busybox --install -s
  chmod 1777 "$R/tmp" "$R/var/tmp"; chmod 0700 "$R/root"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$R/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$R/etc/group"
  pack_rootfs "$R" "$CACHE/busybox/oci" latest sh
  rm -rf "$R"
  touch "$CACHE/busybox/.done"
fi

if [ ! -e "$CACHE/debian/.done" ]; then
  R="$CACHE/debian/rootfs"
  rm -rf "$CACHE/debian"; mkdir -p "$R"
  debootstrap --variant=minbase bookworm "$R" http://deb.debian.org/debian >"$CACHE/debootstrap.log" 2>&1 \
    || { echo "make-bases: debootstrap failed; see $CACHE/debootstrap.log" >&2; exit 1; }
  rm -rf "$R"/var/cache/apt/archives/*.deb "$R"/var/cache/apt/*.bin "$R"/var/lib/apt/lists/*
  : > "$R/etc/resolv.conf"
  pack_rootfs "$R" "$CACHE/debian/oci" bookworm bash
  rm -rf "$R"
  touch "$CACHE/debian/.done"
fi

skopeo copy --quiet --dest-tls-verify=false --format v2s2 "oci:$CACHE/busybox/oci:latest" "docker://$REG/library/busybox:latest"
skopeo copy --quiet --dest-tls-verify=false --format v2s2 "oci:$CACHE/debian/oci:bookworm" "docker://$REG/library/debian:bookworm"
