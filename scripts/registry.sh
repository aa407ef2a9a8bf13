#!/usr/bin/env bash
# Runs a local docker-registry for the quick start and CI, seeded with an offline busybox image.
#
#   scripts/registry.sh start [PORT]   start on 127.0.0.1:PORT (default 5000) unless it already answers,
#                                      then push library/busybox:latest if it is missing
#   scripts/registry.sh stop           stop the registry started by "start"
#   scripts/registry.sh status         exit 0 when the registry answers
#
# Storage lives in $TBUILD_REGISTRY_DIR (default /var/lib/tbuild-registry); the pid, config and log sit beside it.
# Needs the docker-registry, skopeo and busybox-static Debian packages and node_modules (tar-stream).
set -euo pipefail

ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE_DIR="${TBUILD_REGISTRY_DIR:-/var/lib/tbuild-registry}"
PID_FILE="$STATE_DIR/registry.pid"
PORT_FILE="$STATE_DIR/registry.port"
CONFIG_FILE="$STATE_DIR/config.yml"
LOG_FILE="$STATE_DIR/registry.log"
REGISTRY_BIN="${TBUILD_REGISTRY_BIN:-/usr/bin/docker-registry}"

die() { echo "registry.sh: $*" >&2; exit 1; }

answers() { # PORT
  local code
  code="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/v2/" 2>/dev/null || true)"
  [ "$code" = 200 ] || [ "$code" = 401 ]
}

require() {
  command -v "$1" >/dev/null 2>&1 || die "missing prerequisite \"$1\" ($2)"
}

seed() { # PORT
  local host="127.0.0.1:$1"
  if skopeo inspect --raw --tls-verify=false "docker://$host/library/busybox:latest" >/dev/null 2>&1; then
    return 0
  fi
  require node "Node.js 20"
  [ -x /bin/busybox ] || die "missing prerequisite /bin/busybox (apt-get install busybox-static)"
  node "$ROOT_DIR/scripts/seed-busybox.mjs" push "$host"
  echo "registry.sh: pushed $host/library/busybox:latest"
}

start() { # [PORT]
  local port="${1:-5000}"
  case "$port" in ''|*[!0-9]*) die "invalid port \"$port\"" ;; esac
  require curl "apt-get install curl"
  require skopeo "apt-get install skopeo"
  [ -x "$REGISTRY_BIN" ] || die "missing prerequisite $REGISTRY_BIN (apt-get install docker-registry)"
  if answers "$port"; then
    echo "registry.sh: 127.0.0.1:$port already answers"
    seed "$port"
    return 0
  fi
  mkdir -p "$STATE_DIR/storage"
  cat >"$CONFIG_FILE" <<YAML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $STATE_DIR/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
YAML
  nohup "$REGISTRY_BIN" serve "$CONFIG_FILE" >>"$LOG_FILE" 2>&1 &
  local pid=$!
  echo "$pid" >"$PID_FILE"
  echo "$port" >"$PORT_FILE"
  local i
  for i in $(seq 1 200); do
    if answers "$port"; then
      echo "registry.sh: docker-registry (pid $pid) answers on 127.0.0.1:$port"
      seed "$port"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || { rm -f "$PID_FILE"; tail -n 20 "$LOG_FILE" >&2; die "docker-registry exited"; }
    sleep 0.1
  done
  die "docker-registry did not answer on 127.0.0.1:$port; see $LOG_FILE"
}

stop() {
  [ -f "$PID_FILE" ] || { echo "registry.sh: not running (no $PID_FILE)"; return 0; }
  local pid
  pid="$(cat "$PID_FILE")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    local i
    for i in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  rm -f "$PID_FILE"
  echo "registry.sh: stopped (pid $pid)"
}

status() {
  local port
  port="$(cat "$PORT_FILE" 2>/dev/null || echo 5000)"
  if answers "$port"; then echo "registry.sh: 127.0.0.1:$port answers"; else echo "registry.sh: 127.0.0.1:$port does not answer"; return 1; fi
}

case "${1:-}" in
  start) start "${2:-}" ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start [PORT] | stop | status" >&2; exit 2 ;;
esac
