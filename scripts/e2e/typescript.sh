#!/usr/bin/env bash
# The TypeScript level: the components' provider (components/, a Python source plugin) through the
# real engine generates a TypeScript SDK (`pulumi package gen-sdk --language nodejs`, served by our
# language host started as pulumi-language-nodejs, scripts/e2e/langhost/nodejs.go), and a small
# TypeScript program using mlops:index:InferenceEndpoint is deployed by the same engine onto the
# same control plane: @pulumi/pulumi (npm) runs it, the engine constructs the component through
# the Python plugin, the Kubernetes provider creates its objects; checked with kubectl, then
# destroyed. Writes "$E2E_RESULTS/leveltypescript".
set -uo pipefail
: "${E2E_WORK:?}" "${E2E_RESULTS:?}" "${E2E_PROJECT:?}" "${KUBECONFIG:?}"
T="$E2E_WORK/typescript"; mkdir -p "$T"
out() { echo "$*" > "$E2E_RESULTS/leveltypescript"; echo "e2e level typescript: $*"; exit 0; }
step() { echo "e2e level typescript: $*"; }
export VIRTUAL_ENV="$E2E_PROJECT/.venv"
NPM_FLAGS=(--no-audit --no-fund --ignore-scripts --loglevel=error)
NS=mlops-ts

timeout 900 pulumi package gen-sdk "$E2E_PROJECT/components" --language nodejs --out "$T/sdk" > "$T/gen-sdk.log" 2>&1 \
  || out "FAILED — pulumi package gen-sdk components: $(grep -i error "$T/gen-sdk.log" | tail -n 1 | cut -c1-250)"
SDK="$T/sdk/nodejs"
[[ -f "$SDK/package.json" ]] || out "FAILED — gen-sdk wrote no $SDK/package.json"
grep -q "__pulumiType = 'mlops:index:InferenceEndpoint'" "$SDK/inferenceEndpoint.ts" || out "FAILED — the generated SDK has no mlops:index:InferenceEndpoint"
PKG_NAME="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["name"])' "$SDK/package.json")"
step "SDK $PKG_NAME generated from the Python components' inferred schema"
# @pulumi/pulumi: the newest npm release not newer than the engine (npm has no 3.274.1; an older
# SDK runs on a newer engine, not the reverse)
ENGINE_V="$(pulumi version | sed 's/^v//')"
PULUMI_NPM_VERSION="$(timeout 120 npm view @pulumi/pulumi versions --json 2>/dev/null | python3 -c '
import json, sys
key = lambda v: tuple(int(x) for x in v.split("."))
engine = key(sys.argv[1])
ok = [v for v in json.load(sys.stdin) if v.count(".") == 2 and all(x.isdigit() for x in v.split(".")) and key(v) <= engine]
print(max(ok, key=key) if ok else "")' "$ENGINE_V")"
[[ -n "$PULUMI_NPM_VERSION" ]] || out "FAILED — npm serves no @pulumi/pulumi release at or below the engine's $ENGINE_V"
# build it as Pulumi's own SDKs are published: tsc into bin/, package.json beside the output
(cd "$SDK" && timeout 900 npm install "${NPM_FLAGS[@]}" "@pulumi/pulumi@$PULUMI_NPM_VERSION" > "$T/npm-sdk.log" 2>&1 && timeout 600 npm run build > "$T/npm-sdk-build.log" 2>&1 \
  && cp package.json bin/) || out "FAILED — building the generated SDK: $(cat "$T"/npm-sdk*.log | grep -iE 'err|error' | tail -n 1 | cut -c1-250)"

PROG="$T/program"; mkdir -p "$PROG"
cat > "$PROG/Pulumi.yaml" <<YAML
name: mlops-ts-e2e
runtime: nodejs
description: InferenceEndpoint from TypeScript (e2e)
packages:
  mlops: $E2E_PROJECT/components
YAML
cat > "$PROG/package.json" <<JSON
{"name": "mlops-ts-e2e", "private": true, "main": "index.ts",
 "dependencies": {"@pulumi/pulumi": "$PULUMI_NPM_VERSION", "$PKG_NAME": "file:$SDK/bin"},
 "devDependencies": {"typescript": "^5.4.0", "@types/node": "^20.0.0"}}
JSON
cat > "$PROG/tsconfig.json" <<'JSON'
{"compilerOptions": {"strict": true, "target": "es2020", "module": "commonjs", "moduleResolution": "node", "esModuleInterop": true, "skipLibCheck": true}, "files": ["index.ts"]}
JSON
cat > "$PROG/index.ts" <<TS
import * as mlops from "$PKG_NAME";

// The Python stack's serving endpoint, declared from TypeScript, on the same cluster.
const endpoint = new mlops.InferenceEndpoint("ts-endpoint", {
    target: "local",
    environment: "dev",
    namespace: "$NS",
    image: "mlops-serving:e2e",
    modelUri: "models:/demand@champion",
    minReplicas: 1,
    maxReplicas: 2,
});
export const url = endpoint.url;
export const endpointName = endpoint.endpointName;
TS
(cd "$PROG" && timeout 900 npm install "${NPM_FLAGS[@]}" > "$T/npm.log" 2>&1) || out "FAILED — npm install: $(tail -n 1 "$T/npm.log")"
(cd "$PROG" && timeout 600 npx tsc -p . --noEmit > "$T/tsc.log" 2>&1) || out "FAILED — tsc on the TypeScript program: $(head -n 1 "$T/tsc.log" | cut -c1-250)"
step "program type-checks against the SDK (@pulumi/pulumi $PULUMI_NPM_VERSION from npm)"

# the namespace is the platform's (the Python stack's Cluster creates it): here, a cluster admin's
kubectl create namespace "$NS" > "$T/ns.log" 2>&1 || out "FAILED — kubectl create namespace $NS: $(tail -n 1 "$T/ns.log")"
cd "$PROG"
timeout 120 pulumi stack select --create ts --secrets-provider passphrase > "$T/stack-init.log" 2>&1 || out "FAILED — pulumi stack select --create ts: $(tail -n 1 "$T/stack-init.log")"
t0=$SECONDS
timeout --kill-after=30 1500 pulumi up --yes --skip-preview --non-interactive > "$T/up.log" 2>&1 \
  || out "FAILED — pulumi up of the TypeScript program: $(grep -E '^\s*error: ' "$T/up.log" | grep -v 'update failed' | tail -n 1 | cut -c1-250)"
up_s=$((SECONDS - t0))
created="$(grep -oE '\+ [0-9]+ created' "$T/up.log" | tail -n 1 | grep -oE '[0-9]+')"
url="$(pulumi stack output url 2>/dev/null)"
image="$(kubectl -n "$NS" get deploy -o jsonpath='{range .items[*]}{.spec.template.spec.containers[0].image}{end}' 2>/dev/null)"
ready="$(kubectl -n "$NS" get deploy -o jsonpath='{range .items[*]}{.status.readyReplicas}{end}' 2>/dev/null)"
[[ "$image" == "mlops-serving:e2e" ]] || out "FAILED — after pulumi up, no Deployment with image mlops-serving:e2e in $NS (found '$image')"
step "pulumi up: ${created:-?} resources in ${up_s} s; Deployment image $image, ready replicas ${ready:-0}; url $url"
timeout --kill-after=30 900 pulumi destroy --yes --skip-preview --non-interactive > "$T/destroy.log" 2>&1 \
  || out "FAILED — pulumi destroy of the TypeScript program: $(grep -E '^\s*error: ' "$T/destroy.log" | tail -n 1 | cut -c1-250)"
# (the namespace's own serviceaccount/default is the API server's, not the program's)
left="$(kubectl -n "$NS" get deploy,svc,sa,hpa,pdb,networkpolicy -o name 2>/dev/null | grep -v '^serviceaccount/default$' | tr '\n' ' ')"
kubectl delete namespace "$NS" --wait=false > /dev/null 2>&1
[[ -z "$left" ]] || out "FAILED — destroy of the TypeScript program left: $left"
out "ok — TypeScript SDK generated by the engine from the Python components (our Node.js host, the CLI's codegen); a TypeScript program using mlops:index:InferenceEndpoint deployed ${created:-?} resources through the same engine onto the same kube-apiserver (Deployment $image, ready $ready) and destroyed them"
