#!/usr/bin/env bash
# The base image the e2e builds on, made here rather than pulled (no container registry is
# reachable): debootstrap Debian bookworm (minbase + python3 3.11) from Debian's mirror, then
# `docker import`. Prints the image reference. Idempotent: the image is tagged with a hash of
# what defines it (suite, mirror, package list, this script), and a tarball of the root
# filesystem is cached under $MLOPS_E2E_CACHE/base, so a warm run only re-imports if the engine
# lost it.
#
#   BASE_IMAGE=$(scripts/e2e/base-image.sh)      # needs DOCKER_HOST (scripts/e2e/docker.sh start)
#
# The image carries Debian's own ca-certificates only; the host's CA bundle (TLS interception on
# these machines) reaches builds as a BuildKit secret (scripts/e2e/images.sh), never a layer.
set -euo pipefail

CACHE="${MLOPS_E2E_CACHE:-$HOME/.cache/mlops-e2e}"
SUITE="${MLOPS_E2E_BASE_SUITE:-bookworm}"
MIRROR="${MLOPS_E2E_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# python-is-python3: `python` on PATH like the python:*-slim images; python3-venv: `python -m venv`.
PACKAGES="python3,python3-venv,python-is-python3,ca-certificates"
REPO="mlops-e2e/base"

die() { echo "base-image.sh: $*" >&2; exit 1; }
command -v docker >/dev/null || die "docker CLI missing (scripts/e2e/docker.sh start installs it)"
timeout 10 docker info >/dev/null 2>&1 || die "no Docker engine answers at DOCKER_HOST=${DOCKER_HOST:-<unset>} (run scripts/e2e/docker.sh start)"

key="$( { echo "$SUITE $MIRROR $PACKAGES"; cat "$0"; } | sha256sum | cut -c1-16)"
ref="$REPO:$SUITE-$key"
if docker image inspect "$ref" >/dev/null 2>&1; then echo "$ref"; exit 0; fi

mkdir -p "$CACHE/base"
tarball="$CACHE/base/$SUITE-$key.tar"
if [[ ! -s "$tarball" ]]; then
  command -v debootstrap >/dev/null || {
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
  } || die "debootstrap is not installed and could not be installed"
  root="$(mktemp -d "$CACHE/base/root.XXXXXX")"
  trap 'rm -rf "$root"' EXIT
  echo "base-image.sh: debootstrap $SUITE from $MIRROR (a few minutes, once)" >&2
  timeout 1200 debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$root" "$MIRROR" \
    >"$CACHE/base/debootstrap.log" 2>&1 || die "debootstrap failed; see $CACHE/base/debootstrap.log: $(tail -2 "$CACHE/base/debootstrap.log" | tr '\n' ' ')"
  # Smaller and reproducible-ish: no apt lists, caches or logs in the image.
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/* "$root"/tmp/*
  tar --numeric-owner -C "$root" -cf "$tarball.partial" . && mv "$tarball.partial" "$tarball"
fi
docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["python3"]' \
  "$tarball" "$ref" >/dev/null || die "docker import of $tarball failed"
docker run --rm --network none "$ref" python3 -c 'import sys, venv; assert sys.version_info[:2] == (3, 11), sys.version' \
  || die "$ref has no working python3 3.11"
echo "$ref"
