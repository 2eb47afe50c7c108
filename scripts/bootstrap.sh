#!/usr/bin/env bash
# Install what the project needs on a fresh Debian 12 machine with its own Python 3.11, then the
# locked environment in .venv (`uv sync` pulls the default `dev` group: every extra).
#
# - uv: into a tool venv of its own (Debian's system Python refuses `pip install`,
#   PEP 668 "externally-managed-environment"); python3-venv comes from Debian if missing.
# - promtool: extracted from Debian's `prometheus` package without installing that package
#   (installing it would start a Prometheus server on :9090).
# - wrk (benchmarks): Debian's package, a plain binary.
# Tools land in $MLOPS_TOOLS_DIR/bin (default ~/.local/share/mlops-platform/bin); the Makefile
# puts that directory on PATH. Root is needed only for apt-get; sudo is used when not root.
# Tested on a clean debootstrap'ed Debian 12 by scripts/check_bootstrap.sh (both branches: a
# machine that has the tools, one that has nothing).
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLS="${MLOPS_TOOLS_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/mlops-platform}"
BIN="$TOOLS/bin"
mkdir -p "$BIN"
export PATH="$BIN:$PATH"

say() { echo "bootstrap: $*"; }
die() { echo "bootstrap: $*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "needs root for '$*' (run as root, or install sudo)"
  fi
}

apt_updated=0
apt_update() {
  [ "$apt_updated" = 1 ] && return 0
  as_root apt-get update -qq
  apt_updated=1
}
apt_install() {
  apt_update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

command -v python3.11 >/dev/null 2>&1 || command -v python3 >/dev/null 2>&1 ||
  die "needs Python 3.11 (Debian 12: apt-get install python3)"

if ! command -v promtool >/dev/null 2>&1; then
  say "extracting promtool from Debian's prometheus package (the package itself is not installed)"
  apt_update
  work="$(mktemp -d)"
  (cd "$work" && apt-get download -qq prometheus >/dev/null)
  dpkg-deb -x "$work"/prometheus_*.deb "$work/root"
  install -m 0755 "$work/root/usr/bin/promtool" "$BIN/promtool"
  rm -rf "$work"
fi

if ! command -v wrk >/dev/null 2>&1; then
  say "installing wrk from Debian"
  apt_install wrk
fi

if ! command -v uv >/dev/null 2>&1; then
  say "installing uv from PyPI into its own tool venv ($TOOLS/uv-venv)"
  if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
    apt_install python3-venv
  fi
  python3 -m venv "$TOOLS/uv-venv"
  "$TOOLS/uv-venv/bin/python" -m pip install --quiet --disable-pip-version-check uv
  ln -sf "$TOOLS/uv-venv/bin/uv" "$BIN/uv"
fi

# The project pins Python ~=3.11; use the machine's interpreter (uv cannot download one here).
export UV_PYTHON_DOWNLOADS="${UV_PYTHON_DOWNLOADS:-never}"
uv sync --frozen --quiet
