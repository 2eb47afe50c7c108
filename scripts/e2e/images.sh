#!/usr/bin/env bash
# Build the platform's images for the e2e on the local engine: serving (serving/Dockerfile) and
# training (ml/Dockerfile), FROM the locally made base image (scripts/e2e/base-image.sh) through
# `--build-arg BASE_IMAGE=...`, with the host's CA bundle (the file SSL_CERT_FILE names) passed
# as a BuildKit secret — used by the dependency install step, never written to a layer.
# uv comes from a one-file image imported from the host's uv (same version as uv.lock's writer),
# because ghcr.io cannot be pulled here.
#
# Idempotent and cached: each image is tagged mlops-e2e/<name>:<hash of Dockerfile + build
# context + base image id>; an existing tag is not rebuilt. Prints `name=ref` lines.
#
#   eval "$(scripts/e2e/docker.sh start)"; scripts/e2e/images.sh
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DOCKER="${MLOPS_E2E_DOCKER_CLI:-/usr/bin/docker}"   # Debian's 20.10 CLI: BuildKit without buildx
CACHE="${MLOPS_E2E_CACHE:-$HOME/.cache/mlops-e2e}"
BUILD_TIMEOUT="${MLOPS_E2E_BUILD_TIMEOUT:-2400}"
die() { echo "images.sh: $*" >&2; exit 1; }

timeout 10 "$DOCKER" info >/dev/null 2>&1 || die "no Docker engine answers at DOCKER_HOST=${DOCKER_HOST:-<unset>} (run scripts/e2e/docker.sh start)"
base="${BASE_IMAGE:-$("$ROOT/scripts/e2e/base-image.sh")}"
base_id="$("$DOCKER" image inspect --format '{{.Id}}' "$base")" || die "base image $base is missing"

# uv image: /uv only, from the uv on this machine (its version must be the lock's).
uv_bin="$(command -v uv)" || die "uv is not installed"
uv_real="$(uv --version >/dev/null && python3 - "$uv_bin" <<'PY'
import os, shutil, subprocess, sys
path = sys.argv[1]
# pyenv shims are scripts; ask uv where it really is.
out = subprocess.run(["uv", "self", "version", "--short"], capture_output=True, text=True)
for cand in (os.path.realpath(path), shutil.which("uv")):
    with open(cand, "rb") as fh:
        if fh.read(4) == b"\x7fELF":
            print(cand); break
else:
    import glob
    hits = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/*/bin/uv")))
    print(hits[-1] if hits else "")
PY
)"
[[ -n "$uv_real" && -x "$uv_real" ]] || die "could not find the uv binary behind $uv_bin"
uv_ver="$("$uv_real" --version | awk '{print $2}')"
uv_ref="mlops-e2e/uv:$uv_ver"
if ! "$DOCKER" image inspect "$uv_ref" >/dev/null 2>&1; then
  tmp="$(mktemp -d)"; cp "$uv_real" "$tmp/uv"
  tar -C "$tmp" -cf - uv | "$DOCKER" import - "$uv_ref" >/dev/null
  rm -rf "$tmp"
fi

secret_args=()
if [[ -n "${SSL_CERT_FILE:-}" && -s "$SSL_CERT_FILE" ]]; then secret_args=(--secret "id=ca,src=$SSL_CERT_FILE"); fi

context_hash() { # $1 = Dockerfile; what .dockerignore lets through (pyproject, lock, ml/, serving/, contract/; no .md)
  ( cd "$ROOT" && { cat "$1"; cat .dockerignore; find pyproject.toml uv.lock ml serving contract -type f \
      ! -path '*/__pycache__/*' ! -name '*.py[cod]' ! -name 'mlflow.db' ! -path '*/mlruns/*' ! -name '*.md' -print0 \
      | sort -z | xargs -0 sha256sum; echo "$base_id $uv_ref"; } | sha256sum | cut -c1-16 )
}

build() { # $1 = name, $2 = Dockerfile
  local name="$1" dockerfile="$2" ref
  ref="mlops-e2e/$name:$(context_hash "$dockerfile")"
  if ! "$DOCKER" image inspect "$ref" >/dev/null 2>&1; then
    echo "images.sh: building $ref from $dockerfile on $base" >&2
    local log="$CACHE/build-$name.log"; mkdir -p "$CACHE"
    DOCKER_BUILDKIT=1 timeout "$BUILD_TIMEOUT" "$DOCKER" build --progress plain --network host \
      "${secret_args[@]}" --build-arg "BASE_IMAGE=$base" --build-arg "UV_IMAGE=$uv_ref" \
      -f "$ROOT/$dockerfile" -t "$ref" "$ROOT" >"$log" 2>&1 \
      || die "building $name failed; see $log: $(tail -3 "$log" | tr '\n' ' ')"
  fi
  echo "$name=$ref"
}

build serving serving/Dockerfile
build training ml/Dockerfile
