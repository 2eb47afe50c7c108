#!/usr/bin/env bash
# Level 1, the engine: the dev stack through the real Pulumi engine, Python language host and
# Kubernetes provider against the 127.0.0.1 control plane (scripts/e2e/run sets the environment).
#
#   level1.sh up     stack + config, CRDs, policy preview (verdicts == offline runner), pulumi up
#   level1.sh rest   no-change preview, servingMinReplicas in-place update, destroy leaves nothing
# Writes "$E2E_RESULTS/level1" ("ok — ..." or "FAILED — ...") when it fails or finishes.
set -uo pipefail
: "${E2E_WORK:?}" "${E2E_RESULTS:?}" "${E2E_PROJECT:?}" "${KUBECONFIG:?}" "${E2E_STACK:?}"
L="$E2E_WORK/level1"; mkdir -p "$L"
cd "$E2E_PROJECT"
PY="$E2E_PROJECT/.venv/bin/python"

fail() { echo "FAILED — $*" > "$E2E_RESULTS/level1"; echo "e2e level 1: FAILED — $*" >&2; exit 1; }
step() { echo "e2e level 1: $*"; }
# run <name> <seconds> <cmd...>: bounded, output to $L/<name>.log
run() {
  local name="$1" t="$2"; shift 2
  timeout --kill-after=30 "$t" "$@" > "$L/$name.log" 2>&1
}
# the engine's own "error: ..." lines first (the SDK's shutdown traceback follows them), not its summary
last_error() {
  { grep -E '^\s*error: ' "$L/$1.log" | grep -v -E 'error: (update failed|preview failed|Resource monitor has terminated)' | tail -n 1
    grep -E 'error|Error|failed' "$L/$1.log" | tail -n 1; } | grep -v '^\s*$' | head -n 1 | cut -c1-300
}

# what the e2e stack changes from the dev stack's config (everything else is Pulumi.dev.yaml's)
OVERRIDES=(
  "kubeContext=e2e"
  "kubeconfig=$KUBECONFIG"
  "buildImages=false"
  "servingImage=${E2E_SERVING_IMAGE:-mlops-serving:e2e}"
  "monitoringChart=../charts/kube-prometheus-stack"
)
SHARED_CHART="$E2E_PROJECT/../shared/charts/kube-prometheus-stack"
MISSING_SUBCHARTS=""

# The chart the stack installs: a copy of ../shared/charts/kube-prometheus-stack in the work dir.
# Helm refuses a chart whose Chart.yaml names a dependency that is not under charts/. Sub-charts
# missing from shared/ (its copy of the chart's .gitignore, `charts/*`, keeps them out of git) are
# taken from E2E_SUBCHARTS (a directory of unpacked charts, e.g. from `helm pull --untar`) when
# given; any still missing are dropped from the copy's Chart.yaml and named in level 1's line.
prepare_chart() {
  local dst="$E2E_WORK/charts/kube-prometheus-stack" dep
  [[ -f "$SHARED_CHART/Chart.yaml" ]] || fail "no chart at $SHARED_CHART"
  rm -rf "$dst"; mkdir -p "$(dirname "$dst")"; cp -r "$SHARED_CHART" "$dst"; chmod -R u+w "$dst"
  for dep in $("$PY" -c 'import sys,yaml; print(" ".join(d["name"] for d in yaml.safe_load(open(sys.argv[1])).get("dependencies") or []))' "$dst/Chart.yaml"); do
    [[ -d "$dst/charts/$dep" ]] && continue
    if [[ -n "${E2E_SUBCHARTS:-}" && -f "$E2E_SUBCHARTS/$dep/Chart.yaml" ]]; then cp -r "$E2E_SUBCHARTS/$dep" "$dst/charts/"; continue; fi
    MISSING_SUBCHARTS+="$dep "
  done
  MISSING_SUBCHARTS="${MISSING_SUBCHARTS% }"
  if [[ -n "$MISSING_SUBCHARTS" ]]; then
    "$PY" - "$dst/Chart.yaml" $MISSING_SUBCHARTS <<'PY' || fail "could not drop the missing sub-charts from the chart copy"
import os, sys, yaml
path, *missing = sys.argv[1:]
doc = yaml.safe_load(open(path))
gone = [d for d in doc.get("dependencies") or [] if d["name"] in missing]
doc["dependencies"] = [d for d in doc.get("dependencies") or [] if d["name"] not in missing]
yaml.safe_dump(doc, open(path, "w"), sort_keys=False)
# and their conditions (kubeStateMetrics.enabled, grafana.enabled, ...) default to false in the
# copy's values.yaml: the parent chart's own templates read the sub-charts' values when enabled
values_path = os.path.join(os.path.dirname(path), "values.yaml")
values = yaml.safe_load(open(values_path))
for dep in gone:
    for cond in (dep.get("condition") or "").split(","):
        *parents, leaf = cond.strip().split(".")
        node = values
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = False
yaml.safe_dump(values, open(values_path, "w"), sort_keys=False)
PY
    step "chart: sub-charts not in shared/, dropped from the copy and their conditions off: $MISSING_SUBCHARTS"
  fi
  echo "$MISSING_SUBCHARTS" > "$L/missing-subcharts"
}

phase_up() {
  step "stack $E2E_STACK in $PULUMI_BACKEND_URL"
  run stack-init 60 pulumi stack init "$E2E_STACK" --secrets-provider passphrase || fail "pulumi stack init: $(last_error stack-init)"
  # the dev stack's config, then the overrides
  "$PY" - "$E2E_PROJECT/Pulumi.dev.yaml" "$E2E_PROJECT/Pulumi.$E2E_STACK.yaml" "${OVERRIDES[@]}" <<'PY' || fail "stack config"
import sys, yaml
src, dst, *pairs = sys.argv[1:]
cfg = yaml.safe_load(open(src))["config"]
doc = yaml.safe_load(open(dst)) or {}
for pair in pairs:
    k, v = pair.split("=", 1)
    cfg[f"mlops-platform:{k}"] = yaml.safe_load(v) if v in ("true", "false") else v
doc["config"] = cfg
yaml.safe_dump(doc, open(dst, "w"), sort_keys=True)
PY
  prepare_chart
  # the Prometheus operator's CRDs, from the shared chart (what a cluster admin installs first)
  local crds="$SHARED_CHART/charts/crds/crds"
  [[ -d "$crds" ]] || fail "no CRDs at $crds"
  run crds 300 kubectl apply --server-side -f "$crds" || fail "CRDs: $(last_error crds)"
  run crds-wait 120 kubectl wait --for condition=established --timeout 100s -f "$crds" || fail "CRDs not established"
  step "Prometheus operator CRDs established ($(ls "$crds" | wc -l) files)"

  # the policy pack through the real engine, and the offline runner on the same config
  # streaming JSON: the engine's own events, policy events included (plain --json drops them)
  PULUMI_ENABLE_STREAMING_JSON_PREVIEW=true run preview-policy 1200 pulumi preview --policy-pack policies --json --non-interactive
  local rc=$?
  grep '^{' "$L/preview-policy.log" > "$L/preview-policy.events"
  [[ -s "$L/preview-policy.events" ]] || fail "pulumi preview --policy-pack: no events (rc $rc): $(last_error preview-policy)"
  grep -q '"policyAnalyzeSummaryEvent":{[^}]*"policyPackName":"mlops-platform"' "$L/preview-policy.events" || fail "the policy pack did not load: $(last_error preview-policy)"
  local sets=(); for o in "${OVERRIDES[@]}"; do sets+=(--set "$o"); done
  run plan 600 "$PY" -m stacks.plan dev --json "${sets[@]}" || fail "offline plan: $(last_error plan)"
  local cfgs=(); for o in environment=dev owner=ml-platform costCenter=mlops; do cfgs+=("$o"); done
  "$PY" "$E2E_PROJECT/scripts/e2e/verdicts.py" "$L/preview-policy.events" "$L/plan.log" "${cfgs[@]}" > "$L/verdicts.txt" 2>&1 \
    || fail "policy verdicts: $(tail -n 1 "$L/verdicts.txt")"
  VERDICTS="$(cat "$L/verdicts.txt")"
  echo "$VERDICTS" > "$L/verdicts.ok"
  ((rc == 0)) || fail "pulumi preview --policy-pack exited $rc: $(last_error preview-policy)"
  step "policy preview: $VERDICTS as the offline runner"

  step "pulumi up (bounded 40 min)"
  local t0=$SECONDS
  run up 2400 pulumi up --yes --skip-preview --non-interactive --diff || fail "pulumi up: $(last_error up)"
  echo $((SECONDS - t0)) > "$L/up.seconds"
  run outputs 60 pulumi stack output --json --show-secrets || fail "stack output"
  run count 60 pulumi stack export || fail "stack export"
  "$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["deployment"]["resources"]))' "$L/count.log" > "$L/resources.count"
  step "pulumi up: $(cat "$L/resources.count") resources in $(cat "$L/up.seconds") s"
}

phase_rest() {
  run preview-again 900 pulumi preview --expect-no-changes --non-interactive --diff \
    || fail "second preview shows changes: $(grep -E '^\s+[~+-]' "$L/preview-again.log" | head -n 3 | tr -s ' ' | tr '\n' ';')"
  step "second preview: no changes"
  local before after
  before="$(pulumi stack output --json --show-secrets 2>/dev/null | md5sum)"
  run config-set 60 pulumi config set mlops-platform:servingMinReplicas 2 || fail "config set"
  run preview-update 900 pulumi preview --json --non-interactive || fail "update preview: $(last_error preview-update)"
  "$PY" - "$L/preview-update.log" > "$L/update-steps.txt" <<'PY' || fail "servingMinReplicas is not an in-place update: $(cat "$L/update-steps.txt")"
import json, sys
steps = json.load(open(sys.argv[1])).get("steps", [])
changed = [(s["op"], s["urn"].rsplit("::", 1)[-1], s["urn"].split("::")[2].split("$")[-1]) for s in steps
           if s["op"] not in ("same", "read")]
bad = [c for c in changed if c[0] != "update"]
print(changed if bad or not changed else f"{len(changed)} in-place update(s): " + ", ".join(f"{t} {n}" for _, n, t in changed))
sys.exit(1 if bad or not changed else 0)
PY
  run update 1800 pulumi up --yes --skip-preview --non-interactive || fail "update: $(last_error update)"
  local ns replicas
  ns="$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["namespace"])' "$L/outputs.log")"
  replicas="$(kubectl -n "$ns" get deploy -o jsonpath='{range .items[*]}{.metadata.name}={.spec.replicas} {end}' 2>/dev/null)"
  step "update: $(cat "$L/update-steps.txt"); deployments now: $replicas"
  run destroy 1800 pulumi destroy --yes --skip-preview --non-interactive || fail "destroy: $(last_error destroy)"
  "$PY" -c 'import json,sys; r=json.load(open(sys.argv[1]))["deployment"].get("resources") or []; sys.exit(1 if r else 0)' \
    <(pulumi stack export) || fail "destroy left resources in the state"
  local left
  left="$(kubectl get ns -o name | grep -v -E '^namespace/(default|kube-system|kube-public|kube-node-lease)$' | tr '\n' ' ')"
  [[ -z "$left" ]] || fail "destroy left namespaces: $left"
  echo "ok — real engine + policy pack ($(cat "$L/verdicts.ok") as the offline runner), pulumi up of $(cat "$L/resources.count") resources accepted by kube-apiserver $KUBE_VERSION with kwok pods Ready, second preview no changes, servingMinReplicas 1->2 $(cut -d: -f1 "$L/update-steps.txt"), destroy left nothing$(m="$(cat "$L/missing-subcharts" 2>/dev/null)"; [[ -n "$m" ]] && echo "; sub-charts absent from shared/, not installed: $m")" \
    > "$E2E_RESULTS/level1"
  step "$(cat "$E2E_RESULTS/level1")"
}

case "${1:-}" in
  up) phase_up ;;
  rest) phase_rest ;;
  *) echo "usage: level1.sh up|rest" >&2; exit 2 ;;
esac
