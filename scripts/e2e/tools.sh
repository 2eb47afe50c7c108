#!/usr/bin/env bash
# Builds the e2e tier's tools from source through the Go module proxy, once per machine, into a
# cache keyed by tool and version:  ${MLOPS_E2E_CACHE:-$HOME/.cache/mlops-e2e}/<tool>-<version>/bin
#
#   scripts/e2e/tools.sh build [tool...]   build what is missing (default: all), two streams at once
#   scripts/e2e/tools.sh path <tool>       print the bin dir of a built tool (exit 1 if missing)
#
# A tool that cannot be built fails with one line naming it; its log stays in the cache's logs/.
# Versions are pinned here. Why each one is what it is:
# - pulumi CLI: the Go module proxy refuses pkg/v3 v3.272.0 (the locked Python SDK); v3.274.1 is the
#   nearest release it serves. A newer CLI runs an older SDK's program (the engine is backward
#   compatible with language SDKs); the Python SDK stays as locked.
# - pulumi-resource-kubernetes: the proxy serves exactly one provider/v4 version, a commit of
#   2026-01-15 (v4.0.0-20260115033456-f47bc2d6f199); no tag, so 4.34.2 (locked SDK) cannot be built.
#   It is installed under the version the SDK asks for, and the README says which code it really is.
set -euo pipefail

CACHE="${MLOPS_E2E_CACHE:-$HOME/.cache/mlops-e2e}"
LOGS="$CACHE/logs"
mkdir -p "$CACHE" "$LOGS"

PULUMI_VERSION=v3.274.1
PULUMI_SDK_VERSION=v3.274.1
CLIPBOARD_REPLACE="github.com/atotto/clipboard=github.com/tgummerer/clipboard@v0.0.0-20241001131231-d02d263e614e"
K8S_PROVIDER_VERSION=v4.0.0-20260115033456-f47bc2d6f199
K8S_PROVIDER_SDK_VERSION=v4.24.0
# the version the locked Python SDK (pulumi-kubernetes 4.34.2) asks the engine for
K8S_PROVIDER_INSTALL_AS=4.34.2
KUBERNETES_VERSION=v1.37.2
# r2: the binaries carry their release as their version (r1 reported v0.0.0-master, and Helm
# refused charts with a kubeVersion constraint)
KUBERNETES_BUILD_REV=r2
ETCD_VERSION=v3.7.3
KWOK_VERSION=v0.8.0

export GOTOOLCHAIN=local GOFLAGS="-trimpath -mod=mod" CGO_ENABLED=0
export GOPROXY="${GOPROXY:-https://proxy.golang.org}"
LDFLAGS="-s -w"

tool_version() {
  case "$1" in
    pulumi) echo "$PULUMI_VERSION" ;;
    pulumi-resource-kubernetes) echo "$K8S_PROVIDER_VERSION" ;;
    pulumi-language-python) echo "$PULUMI_SDK_VERSION-e2e.$(langhost_hash)" ;;
    kubernetes) echo "$KUBERNETES_VERSION-$KUBERNETES_BUILD_REV" ;;
    kubectl) echo "$KUBERNETES_VERSION" ;;
    etcd) echo "$ETCD_VERSION" ;;
    kwok) echo "$KWOK_VERSION" ;;
    *) echo "unknown tool '$1' (allowed: pulumi, pulumi-resource-kubernetes, pulumi-language-python, kubectl, kubernetes, etcd, kwok)" >&2; return 2 ;;
  esac
}
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
langhost_hash() { cat "$HERE"/langhost/*.go | sha256sum | cut -c1-12; }
tool_dir() { echo "$CACHE/$1-$(tool_version "$1")"; }

# wrapper <dir> <module-path>: a throwaway module that requires what it builds
wrapper() {
  rm -rf "$1"; mkdir -p "$1"
  printf 'module %s\n\ngo 1.26\n' "$2" > "$1/go.mod"
}

build_pulumi() {
  local w="$1/src"; wrapper "$w" e2e.local/pulumi-cli
  ( cd "$w"
    go mod edit -replace "$CLIPBOARD_REPLACE"
    go mod edit -require "github.com/pulumi/pulumi/pkg/v3@$PULUMI_VERSION" \
                -require "github.com/pulumi/pulumi/sdk/v3@$PULUMI_SDK_VERSION"
    printf 'package main\n\nimport _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"\n' > tools.go
    go mod tidy 2>&1 | tail -5 || true
    go build -ldflags "$LDFLAGS -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
      -o "$1/bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi )
}

build_pulumi-resource-kubernetes() {
  local w="$1/src" mod=github.com/pulumi/pulumi-kubernetes/provider/v4
  wrapper "$w" e2e.local/pulumi-kubernetes
  ( cd "$w"
    go mod edit -require "$mod@$K8S_PROVIDER_VERSION" \
                -require "github.com/pulumi/pulumi-kubernetes/sdk/v4@$K8S_PROVIDER_SDK_VERSION"
    go mod download "$mod"
    local src; src="$(go list -m -f '{{.Dir}}' "$mod")"
    # The main package embeds schema-embed.json, generated at build time from schema.json:
    # the same bytes, minified (what the repository's generator writes). Build from a writable copy.
    mkdir -p main && cp "$src/cmd/pulumi-resource-kubernetes/main.go" main/
    # and terraform-mapping-embed.json from terraform-mapping.json; both minified, the schema with its
    # version set (what the repository's generate.go writes).
    python3 - "$src/cmd/pulumi-resource-kubernetes" main "$K8S_PROVIDER_INSTALL_AS" <<'PY'
import json, sys
src, out, version = sys.argv[1:]
schema = json.load(open(f"{src}/schema.json"))
schema["version"] = version
json.dump(schema, open(f"{out}/schema-embed.json", "w"), separators=(",", ":"))
json.dump(json.load(open(f"{src}/terraform-mapping.json")),
          open(f"{out}/terraform-mapping-embed.json", "w"), separators=(",", ":"))
PY
    go mod tidy 2>&1 | tail -5 || true
    go build -ldflags "$LDFLAGS -X $mod/pkg/version.Version=$K8S_PROVIDER_INSTALL_AS" \
      -o "$1/bin/pulumi-resource-kubernetes" ./main )
}

# Python language host: our own (scripts/e2e/langhost/main.go; Pulumi's is not served by the
# proxy), built against the CLI's SDK release, with that release's executor script beside it;
# linked as pulumi-language-nodejs it is the Node.js host (langhost/nodejs.go).
build_pulumi-language-python() {
  local w="$1/src"; wrapper "$w" e2e.local/langhost
  ( cd "$w"
    cp "$HERE"/langhost/*.go .
    # the Node.js host (nodejs.go) generates SDKs with the CLI's own codegen: same pkg release
    go mod edit -replace "$CLIPBOARD_REPLACE" -require "github.com/pulumi/pulumi/sdk/v3@$PULUMI_SDK_VERSION" \
                -require "github.com/pulumi/pulumi/pkg/v3@$PULUMI_VERSION"
    go mod tidy
    go build -ldflags "$LDFLAGS -X main.version=${PULUMI_SDK_VERSION#v}" -o "$1/bin/pulumi-language-python" .
    ln -s pulumi-language-python "$1/bin/pulumi-language-nodejs"
    install -m 0755 "$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)/python/cmd/pulumi-language-python-exec" "$1/bin/" )
}

build_kubectl() { build_kubernetes "$1" kubectl; }

# build_kubernetes <dir> [kubectl]: the control-plane binaries, or kubectl (same release)
build_kubernetes() {
  local w="$1/src" v="$KUBERNETES_VERSION" staging
  local cmds="kube-apiserver kube-controller-manager kube-scheduler"
  [[ "${2:-}" == kubectl ]] && cmds=kubectl
  wrapper "$w" e2e.local/kubernetes
  ( cd "$w"
    go mod edit -require "k8s.io/kubernetes@$v"
    go mod download "k8s.io/kubernetes@$v"
    # k8s.io/kubernetes requires its staging modules as v0.0.0 => ./staging/...: pin each to its release
    staging=$(grep -E '=> \./staging' "$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/$v.mod" | awk '{print $1}')
    for m in $staging; do go mod edit -replace "$m=$m@v0.${v#v1.}"; done
    { printf 'package main\n\nimport (\n'; for c in $cmds; do printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$c"; done; printf ')\n'; } > tools.go
    go mod tidy 2>&1 | tail -5 || true
    mkdir -p "$1/bin"
    # what the release's hack/lib/version.sh stamps: without it the servers report
    # v0.0.0-master+$Format:%H$ and a chart's kubeVersion constraint refuses the cluster
    local minor="${v#v1.}"; minor="${minor%%.*}" x
    for x in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      LDFLAGS+=" -X $x.gitVersion=$v -X $x.gitMajor=1 -X $x.gitMinor=$minor -X $x.gitTreeState=clean"
      LDFLAGS+=" -X $x.buildDate=1970-01-01T00:00:00Z"
    done
    go build -ldflags "$LDFLAGS" -o "$1/bin/" $(for c in $cmds; do echo "k8s.io/kubernetes/cmd/$c"; done) )
}

build_etcd() {
  local w="$1/src"; wrapper "$w" e2e.local/etcd
  ( cd "$w"
    go mod edit -require "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
    for m in api/v3 client/pkg/v3 client/v3 pkg/v3; do go mod edit -require "go.etcd.io/etcd/$m@$ETCD_VERSION"; done
    printf 'package main\n\nimport _ "go.etcd.io/etcd/server/v3"\n' > tools.go
    go mod tidy 2>&1 | tail -5 || true
    go build -ldflags "$LDFLAGS" -o "$1/bin/etcd" go.etcd.io/etcd/server/v3 )
}

build_kwok() {
  local w="$1/src"; wrapper "$w" e2e.local/kwok
  ( cd "$w"
    go mod edit -require "sigs.k8s.io/kwok@$KWOK_VERSION"
    printf 'package main\n\nimport _ "sigs.k8s.io/kwok/cmd/kwok"\n' > tools.go
    go mod tidy 2>&1 | tail -5 || true
    go build -ldflags "$LDFLAGS" -o "$1/bin/kwok" sigs.k8s.io/kwok/cmd/kwok
    kwok_stages "$(go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)" > "$1/bin/stages.yaml" )
}

# The standalone kwok binary simulates nothing without Stage objects: the release's own defaults
# (what kwokctl passes it): node initialize + heartbeat, pod ready, complete (Job pods), delete.
kwok_stages() {
  local s="$1/kustomize/stage" f
  for f in node/fast/node-initialize.yaml node/heartbeat/node-heartbeat.yaml \
           pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
    echo "---"; cat "$s/$f"
  done
}

# build_one <tool>: skip when cached; record wall time and load; one line on failure
build_one() ( # a subshell: the lock is released when it returns
  local t="$1" d fd; d="$(tool_dir "$t")"
  # one build of a tool at a time on this machine: a second caller waits, then finds it cached
  exec {fd}>"$CACHE/.lock-$t"; flock "$fd"
  if [[ -f "$d/.built" ]]; then echo "e2e tools: $t $(tool_version "$t") cached"; return 0; fi
  rm -rf "$d"; mkdir -p "$d/bin"
  local start=$SECONDS load0; load0="$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "e2e tools: building $t $(tool_version "$t") (log: $LOGS/$t.log)"
  if "build_$t" "$d" >"$LOGS/$t.log" 2>&1; then
    printf 'seconds=%s load_before=%s load_after=%s\n' "$((SECONDS - start))" "$load0" \
      "$(cut -d' ' -f1-3 /proc/loadavg)" > "$d/build-time"
    rm -rf "$d/src"; touch "$d/.built"
    echo "e2e tools: built $t in $((SECONDS - start)) s"
  else
    echo "e2e tools: FAILED to build $t $(tool_version "$t") — see $LOGS/$t.log: $(grep -v '^\s*$' "$LOGS/$t.log" | tail -1)"
    return 1
  fi
)

cmd="${1:-build}"; shift || true
case "$cmd" in
  path)
    d="$(tool_dir "$1")"
    [[ -f "$d/.built" ]] || { echo "e2e tools: $1 is not built (run scripts/e2e/tools.sh build $1)" >&2; exit 1; }
    echo "$d/bin" ;;
  build)
    if (($#)); then
      rc=0; for t in "$@"; do build_one "$t" || rc=1; done; exit $rc
    fi
    # two streams on two cores: the engine side and the control-plane side
    ( r=0; build_one pulumi || r=1; build_one pulumi-language-python || r=1; build_one pulumi-resource-kubernetes || r=1; exit $r ) & a=$!
    ( r=0; build_one etcd || r=1; build_one kwok || r=1; build_one kubernetes || r=1; build_one kubectl || r=1; exit $r ) & b=$!
    rc=0; wait $a || rc=1; wait $b || rc=1; exit $rc ;;
  *) echo "usage: scripts/e2e/tools.sh build [tool...] | path <tool>" >&2; exit 2 ;;
esac
