#!/usr/bin/env bash
# The quick start's main job: builds examples/hello with tbuild, offline.
# A loopback registry on 127.0.0.1:5000 is seeded with a busybox image made from Debian's busybox-static,
# and examples/offline.toml points docker.io at it, so `FROM busybox` resolves without internet.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

./scripts/setup.sh
./scripts/registry.sh start 5000

tbuild() { node bin/tbuild.js "$@"; }
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

tbuild build --progress=plain --config examples/offline.toml -t hello examples/hello
tbuild build --progress=plain --config examples/offline.toml -t hello --output type=oci,dest="$out/hello.tar" examples/hello
tbuild images

echo "--- running the image's entrypoint with runc"
mkdir -p "$out/layout"
tar -xf "$out/hello.tar" -C "$out/layout"
umoci unpack --image "$out/layout:latest" "$out/bundle" >/dev/null
sed -i 's/"terminal": true/"terminal": false/' "$out/bundle/config.json"
runc run --bundle "$out/bundle" "tbuild-example-$$"
