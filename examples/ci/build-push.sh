#!/bin/sh
# build-push.sh: what docker/login-action and docker/build-push-action do in a CI job, with tbuild.
#
# It logs in to the registry, builds the context with the registry cache of earlier runs (--cache-from) and
# exports this run's cache to it (--cache-to type=registry,mode=max), pushes the image under every tag, writes
# the build's metadata file, hands the image ID and digest to the CI system, and logs out again.
#
# Inputs (environment variables, as the actions' inputs):
#   REGISTRY        registry host to log in to, e.g. ghcr.io or 127.0.0.1:5000              (required)
#   IMAGE           repository to push, e.g. $REGISTRY/team/app                              (required)
#   TAGS            tags, comma-separated (default: latest)
#   USERNAME        user to log in as; with PASSWORD (read from the environment, never argv)
#   PASSWORD        password or token
#   CONTEXT         build context (default: .)
#   FILE            Dockerfile (default: CONTEXT/Dockerfile)
#   PLATFORMS       platforms, comma-separated, e.g. linux/amd64,linux/arm64 (default: the host's)
#   CACHE_REF       registry cache reference (default: $IMAGE:buildcache)
#   METADATA_FILE   where the build's metadata goes (default: metadata.json)
#   PROGRESS        progress output (default: plain, as CI logs are no terminal)
#   TBUILD          the tbuild command (default: tbuild)
#   TBUILD_CONFIG   tbuild settings file (registry mirrors, CAs, plain-HTTP hosts); optional
# Outputs: lines imageid=..., digest=... on standard output, and appended to $GITHUB_OUTPUT when it is set.
set -eu

: "${REGISTRY:?set REGISTRY to the registry host}"
: "${IMAGE:?set IMAGE to the repository to push}"
TAGS=${TAGS:-latest}
CONTEXT=${CONTEXT:-.}
CACHE_REF=${CACHE_REF:-$IMAGE:buildcache}
METADATA_FILE=${METADATA_FILE:-metadata.json}
PROGRESS=${PROGRESS:-plain}
TBUILD=${TBUILD:-tbuild}

# docker/login-action: log in, and log out when the job ends (its post step).
if [ -n "${USERNAME:-}" ]; then
  printf '%s' "${PASSWORD:?set PASSWORD with USERNAME}" | $TBUILD login ${TBUILD_CONFIG:+--config "$TBUILD_CONFIG"} -u "$USERNAME" --password-stdin "$REGISTRY"
  trap '$TBUILD logout "$REGISTRY" >/dev/null' EXIT
fi

# docker/build-push-action: build with the registry cache, push every tag, write the metadata file.
set -- build --progress "$PROGRESS" --push --metadata-file "$METADATA_FILE" \
  --cache-from "type=registry,ref=$CACHE_REF" \
  --cache-to "type=registry,ref=$CACHE_REF,mode=max"
old_ifs=$IFS
IFS=,
for tag in $TAGS; do
  set -- "$@" -t "$IMAGE:$tag"
done
IFS=$old_ifs
if [ -n "${FILE:-}" ]; then set -- "$@" -f "$FILE"; fi
if [ -n "${PLATFORMS:-}" ]; then set -- "$@" --platform "$PLATFORMS"; fi
if [ -n "${TBUILD_CONFIG:-}" ]; then set -- "$@" --config "$TBUILD_CONFIG"; fi
$TBUILD "$@" "$CONTEXT"

# The action's outputs, read from the metadata file.
field() {
  sed -n "s/.*\"$1\": *\"\([^\"]*\)\".*/\1/p" "$METADATA_FILE" | head -n 1
}
imageid=$(field 'containerimage\.config\.digest')
digest=$(field 'containerimage\.digest')
printf 'imageid=%s\ndigest=%s\n' "$imageid" "$digest"
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  printf 'imageid=%s\ndigest=%s\n' "$imageid" "$digest" >> "$GITHUB_OUTPUT"
fi
