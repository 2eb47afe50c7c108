#!/usr/bin/env bash
# A private Docker engine for the e2e tier: Debian's docker.io, listening on a unix socket only
# (no TCP, no published ports unless a caller asks for 127.0.0.1), its own data root under the
# e2e cache, stopped by the PID this script recorded.
#
#   scripts/e2e/docker.sh start    # idempotent; prints `export DOCKER_HOST=unix://...`
#   scripts/e2e/docker.sh stop     # SIGTERM to the recorded PID only, then waits (bounded)
#   scripts/e2e/docker.sh env      # the DOCKER_HOST line, if the engine answers
#
# Storage driver: overlay2 first; if the engine cannot start with it (e.g. the data root is on
# overlayfs itself), vfs (proven, slow). The driver that worked is recorded in $STATE/driver.
set -euo pipefail

CACHE="${MLOPS_E2E_CACHE:-$HOME/.cache/mlops-e2e}"
STATE="${MLOPS_E2E_DOCKER_STATE:-$CACHE/docker}"
RUN_DIR="${MLOPS_E2E_DOCKER_RUN:-/run/mlops-e2e-docker}"
SOCK="$RUN_DIR/docker.sock"
PIDFILE="$RUN_DIR/dockerd.pid"
LOG="$STATE/dockerd.log"
START_TIMEOUT="${MLOPS_E2E_DOCKER_START_TIMEOUT:-60}"

die() { echo "docker.sh: $*" >&2; exit 1; }

answers() { DOCKER_HOST="unix://$SOCK" timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

running_pid() {
  [[ -s "$PIDFILE" ]] || return 1
  local pid; pid="$(cat "$PIDFILE")"
  [[ -d "/proc/$pid" ]] && grep -q dockerd "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
}

install_engine() {
  command -v dockerd >/dev/null && command -v docker >/dev/null && return 0
  command -v apt-get >/dev/null || die "dockerd is not installed and apt-get is not available (install Debian's docker.io)"
  echo "docker.sh: installing Debian's docker.io" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io iptables >/dev/null \
    || die "apt-get install docker.io failed"
}

try_start() { # $1 = storage driver
  local driver="$1" root="$STATE/root-$1"
  mkdir -p "$root" "$RUN_DIR" "$STATE"
  # --host: the unix socket only. No userland proxy listening on 0.0.0.0: containers publish
  # nothing by default, and callers that publish bind 127.0.0.1 explicitly.
  setsid dockerd \
    --host "unix://$SOCK" \
    --data-root "$root" \
    --exec-root "$RUN_DIR/exec" \
    --pidfile "$PIDFILE" \
    --storage-driver "$driver" \
    --ip 127.0.0.1 \
    --userland-proxy=false \
    --bridge none \
    --iptables=true \
    --log-level warn >>"$LOG" 2>&1 < /dev/null &
  local launched=$! deadline=$((SECONDS + START_TIMEOUT))
  while (( SECONDS < deadline )); do
    if answers; then echo "$driver" >"$STATE/driver"; return 0; fi
    [[ -d "/proc/$launched" ]] || break
    sleep 1
  done
  if [[ -d "/proc/$launched" ]]; then kill "$launched" 2>/dev/null || true; wait "$launched" 2>/dev/null || true; fi
  rm -f "$PIDFILE"
  return 1
}

case "${1:-start}" in
  start)
    if pid="$(running_pid)" && answers; then
      echo "export DOCKER_HOST=unix://$SOCK"; exit 0
    fi
    install_engine
    mkdir -p "$STATE"; : >"$LOG"
    preferred="${MLOPS_E2E_DOCKER_DRIVER:-$(cat "$STATE/driver" 2>/dev/null || echo overlay2)}"
    for driver in "$preferred" overlay2 vfs; do
      if try_start "$driver"; then
        echo "docker.sh: dockerd $(cat "$PIDFILE") up on unix://$SOCK (storage driver $driver)" >&2
        echo "export DOCKER_HOST=unix://$SOCK"; exit 0
      fi
      echo "docker.sh: storage driver $driver did not start (see $LOG)" >&2
    done
    die "dockerd did not start with overlay2 or vfs; last log lines: $(tail -3 "$LOG" | tr '\n' ' ')"
    ;;
  stop)
    if pid="$(running_pid)"; then
      kill -TERM "$pid"
      for _ in $(seq 1 30); do [[ -d "/proc/$pid" ]] || break; sleep 1; done
      [[ -d "/proc/$pid" ]] && kill -KILL "$pid"
      echo "docker.sh: dockerd $pid stopped" >&2
    fi
    rm -f "$PIDFILE"
    ;;
  env)
    answers || die "no engine answers on unix://$SOCK (run: scripts/e2e/docker.sh start)"
    echo "export DOCKER_HOST=unix://$SOCK"
    ;;
  *) die "unknown command ${1}; allowed: start, stop, env" ;;
esac
