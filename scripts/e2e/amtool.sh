#!/usr/bin/env bash
# Print the path of an `amtool` (Alertmanager's config checker): the one on PATH, else the one
# in Debian's prometheus-alertmanager package, extracted (not installed: no Alertmanager server
# is started) into $MLOPS_E2E_CACHE/amtool once.
set -euo pipefail
if command -v amtool >/dev/null 2>&1; then command -v amtool; exit 0; fi
CACHE="${MLOPS_E2E_CACHE:-$HOME/.cache/mlops-e2e}/amtool"
if [[ ! -x "$CACHE/usr/bin/amtool" ]]; then
  mkdir -p "$CACHE"; tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
  ( cd "$tmp" && timeout 300 apt-get download prometheus-alertmanager >/dev/null 2>&1 ) \
    || { apt-get update -qq >/dev/null 2>&1 && ( cd "$tmp" && timeout 300 apt-get download prometheus-alertmanager >/dev/null 2>&1 ); } \
    || { echo "amtool.sh: could not download Debian's prometheus-alertmanager (apt-get download)" >&2; exit 1; }
  dpkg-deb -x "$tmp"/prometheus-alertmanager_*.deb "$CACHE"
fi
echo "$CACHE/usr/bin/amtool"
