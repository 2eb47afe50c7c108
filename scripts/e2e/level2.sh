#!/usr/bin/env bash
# e2e level 2 (see scripts/e2e/level2.py): the dev stack's pods, read back from the API server
# (KUBECONFIG), run on a private Docker engine exactly as declared, and the platform's flow
# proved end to end. Called by scripts/e2e/run after the first `pulumi up`; writes one line to
# $E2E_RESULTS/level2. Without an API server: LEVEL2_OBJECTS=<rendered objects JSON>
# (scripts/e2e/render_objects.py).
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
E2E_WORK="${E2E_WORK:-$(mktemp -d)}"; E2E_RESULTS="${E2E_RESULTS:-$E2E_WORK/results}"
mkdir -p "$E2E_WORK" "$E2E_RESULTS"
fail() { echo "FAILED — $*" >"$E2E_RESULTS/level2"; echo "e2e level 2: FAILED — $*" >&2; exit 1; }

# the engine is stopped at the end of the run (scripts/e2e/run) when this run started it
"$ROOT/scripts/e2e/docker.sh" env >/dev/null 2>&1 || touch "$E2E_WORK/dockerd-started"
env_line="$("$ROOT/scripts/e2e/docker.sh" start)" || fail "the Docker engine did not start (scripts/e2e/docker.sh)"
eval "$env_line"
t0=$SECONDS l0="$(cut -d' ' -f1 /proc/loadavg)"
built="$("$ROOT/scripts/e2e/images.sh")" || fail "the images did not build (scripts/e2e/images.sh; logs under ${MLOPS_E2E_CACHE:-$HOME/.cache/mlops-e2e})"
serving="$(sed -n 's/^serving=//p' <<<"$built")"; training="$(sed -n 's/^training=//p' <<<"$built")"
echo "images $((SECONDS - t0)) s (load $l0 -> $(cut -d' ' -f1 /proc/loadavg))" >> "$E2E_WORK/times"
[[ -n "$serving" && -n "$training" ]] || fail "images.sh printed no serving/training references"
objects=()
if [[ -n "${LEVEL2_OBJECTS:-}" ]]; then objects=(--objects "$LEVEL2_OBJECTS")
else [[ -n "${KUBECONFIG:-}" ]] || fail "KUBECONFIG is not set (or set LEVEL2_OBJECTS)"; fi
export KUBECTL="${KUBECTL:-$(command -v kubectl)}"   # the e2e's own kubectl (run puts it first on PATH)
cd "$ROOT" && timeout "${LEVEL2_TIMEOUT:-2100}" uv run --frozen python scripts/e2e/level2.py \
  --serving-image "$serving" --training-image "$training" --work "$E2E_WORK" --results "$E2E_RESULTS" \
  "${objects[@]}" ${LEVEL2_ARGS:-}
rc=$?
[[ -s "$E2E_RESULTS/level2" ]] || fail "level2.py ended (rc $rc) without a verdict"
exit $rc
