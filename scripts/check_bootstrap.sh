#!/usr/bin/env bash
# Run scripts/bootstrap.sh on a clean Debian 12 (a debootstrap'ed chroot with Debian's own
# python3 and nothing else), as a new user would, and check what it left behind:
#   branch "fresh": no uv, no promtool, no wrk, no python3-venv -> all installed, promtool works,
#                   the `prometheus` package (and its server) is NOT installed, nothing on :9090,
#                   uv came from a tool venv (not `pip install` into the system Python), the
#                   locked .venv imports the project's packages;
#   branch "again": a second run on the same machine installs nothing and needs no apt.
# Needs root (chroot, mounts). The base rootfs is cached by Debian suite under
# ${MLOPS_E2E_CACHE:-$HOME/.cache/mlops-e2e}; the project's uv cache is shared read-write so the
# locked environment installs from it. Prints `bootstrap check: ok — ...` or exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT_DIR="$(pwd)"
CACHE="${MLOPS_E2E_CACHE:-$HOME/.cache/mlops-e2e}"
SUITE=bookworm
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
BASE="$CACHE/bootstrap-check-$SUITE-python3.tar"
CA="${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}"
UV_CACHE="${UV_CACHE_DIR:-$(uv cache dir 2>/dev/null || echo "$HOME/.cache/uv")}"

fail() { echo "bootstrap check: FAILED — $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "needs root (chroot)"
command -v debootstrap >/dev/null 2>&1 || {
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
} || fail "debootstrap is not installable"
mkdir -p "$CACHE"

if [ ! -s "$BASE" ]; then
  echo "bootstrap check: building a clean Debian $SUITE rootfs (cached at $BASE)"
  tmp="$(mktemp -d "$CACHE/rootfs.XXXXXX")"
  debootstrap --variant=minbase --include=python3,ca-certificates "$SUITE" "$tmp" "$MIRROR" \
    >"$CACHE/debootstrap.log" 2>&1 || { tail -20 "$CACHE/debootstrap.log"; rm -rf "$tmp"; fail "debootstrap"; }
  rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/lib/apt/lists/*
  tar -C "$tmp" -cf "$BASE.part" . && mv "$BASE.part" "$BASE"
  rm -rf "$tmp"
fi

CH="$(mktemp -d /tmp/bootstrap-check.XXXXXX)"
mounted=()
cleanup() {
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[$i]}" 2>/dev/null || true; done
  rm -rf "$CH"
}
trap cleanup EXIT
tar -C "$CH" -xf "$BASE"
bind() { mkdir -p "$CH$2"; mount --bind "$1" "$CH$2"; mounted+=("$CH$2"); }
mount -t proc proc "$CH/proc"; mounted+=("$CH/proc")
bind /dev /dev
mkdir -p "$CH/host-uv-cache"; bind "$UV_CACHE" /host-uv-cache
cp /etc/resolv.conf "$CH/etc/resolv.conf"
# The registries here sit behind TLS interception: the machine's CA bundle is the chroot's
# trust store for this check only (it is a test machine, not a shipped image).
cp "$CA" "$CH/usr/local/share/host-ca.crt"
git -C "$ROOT_DIR" archive --format=tar --prefix=src/ HEAD | tar -C "$CH" -xf -
# Work-tree changes not yet committed are checked too (the check runs on what is here).
git -C "$ROOT_DIR" diff HEAD --binary | (cd "$CH/src" && git apply --allow-empty 2>/dev/null || patch -p1 -s) || true

in_chroot() {
  chroot "$CH" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    SSL_CERT_FILE=/usr/local/share/host-ca.crt PIP_CERT=/usr/local/share/host-ca.crt \
    UV_CACHE_DIR=/host-uv-cache UV_LINK_MODE=copy LANG=C.UTF-8 /bin/bash -c "$1"
}

# Preconditions: this really is a machine without the tools.
in_chroot 'set -e; ! command -v uv; ! command -v promtool; ! command -v wrk; ! python3 -c "import ensurepip" 2>/dev/null;
  python3 -m pip --version 2>/dev/null && exit 1; python3 --version' >/dev/null ||
  fail "the clean rootfs already has uv/promtool/wrk/pip/venv"

echo "bootstrap check: branch fresh (nothing installed)"
start=$(date +%s)
in_chroot 'cd /src && bash scripts/bootstrap.sh' >"$CH/fresh.log" 2>&1 || { tail -30 "$CH/fresh.log"; fail "bootstrap.sh on a fresh Debian $SUITE"; }
fresh_s=$(( $(date +%s) - start ))
grep -q "externally-managed" "$CH/fresh.log" && fail "pip refused the system Python (PEP 668)"
in_chroot 'set -e; T=/root/.local/share/mlops-platform/bin
  test -x $T/uv && test -x $T/promtool
  $T/promtool --version >/dev/null
  readlink -f $T/uv | grep -q "/uv-venv/"
  ! dpkg -s prometheus >/dev/null 2>&1
  ! ls /lib/systemd/system/prometheus.service >/dev/null 2>&1
  command -v wrk >/dev/null
  cd /src && .venv/bin/python -c "import pulumi, mlflow, fastapi, components, serving, ml"' >"$CH/post.log" 2>&1 ||
  { cat "$CH/post.log"; fail "state after the fresh bootstrap"; }
if grep -qs ':2382 ' "$CH/proc/net/tcp"; then fail "something listens on :9090 after the bootstrap"; fi

echo "bootstrap check: branch again (tools present)"
in_chroot 'cd /src && mv /usr/bin/apt-get /usr/bin/apt-get.off && bash scripts/bootstrap.sh; rc=$?; mv /usr/bin/apt-get.off /usr/bin/apt-get; exit $rc' \
  >"$CH/again.log" 2>&1 || { tail -20 "$CH/again.log"; fail "second bootstrap run (it must not need apt)"; }
grep -q "installing\|extracting" "$CH/again.log" && { cat "$CH/again.log"; fail "second run installed something again"; }

echo "bootstrap check: ok — fresh Debian $SUITE in ${fresh_s}s: uv from a tool venv, promtool extracted without the prometheus package, wrk, locked .venv imports; second run installs nothing"
