#!/usr/bin/env bash
# A Kubernetes control plane on 127.0.0.1 for the e2e tier: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler and kwok (simulated nodes and pods), all from
# scripts/e2e/tools.sh's cache. Every process binds 127.0.0.1 and is recorded by PID.
#
#   scripts/e2e/cluster.sh start <dir>   start in <dir>; writes <dir>/kubeconfig; waits (bounded)
#   scripts/e2e/cluster.sh stop <dir>    stop what start recorded in <dir>/pids, by PID
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TOOLS="$HERE/tools.sh"

ETCD_PORT="${E2E_ETCD_PORT:-23791}"
ETCD_PEER_PORT="${E2E_ETCD_PEER_PORT:-23801}"
API_PORT="${E2E_APISERVER_PORT:-16443}"
CM_PORT="${E2E_CONTROLLER_MANAGER_PORT:-10357}"
SCHED_PORT="${E2E_SCHEDULER_PORT:-10359}"
KWOK_PORT="${E2E_KWOK_PORT:-10347}"
NODES="${E2E_NODES:-2}"
# addresses the API server hands out for Services and kwok for pods: bookkeeping only, nothing
# routes to them (there is no kube-proxy and no pod network here)
SERVICE_CIDR=10.96.0.0/16
POD_CIDR=10.244.0.0/16

log() { echo "e2e cluster: $*"; }
die() { echo "e2e cluster: FAILED — $*" >&2; exit 1; }

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_for <what> <seconds> <command...>
wait_for() {
  local what="$1" t="$2"; shift 2
  local end=$((SECONDS + t))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < end)) || die "$what not ready after ${t}s (logs in $DIR/logs)"
    sleep 1
  done
}

certs() {
  local c="$DIR/pki"; mkdir -p "$c"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=e2e-ca" \
    -keyout "$c/ca.key" -out "$c/ca.crt" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:10.96.0.1\n' > "$c/san.ext"
  openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" -keyout "$c/apiserver.key" \
    -out "$c/apiserver.csr" 2>/dev/null
  openssl x509 -req -in "$c/apiserver.csr" -CA "$c/ca.crt" -CAkey "$c/ca.key" -CAcreateserial \
    -days 2 -extfile "$c/san.ext" -out "$c/apiserver.crt" 2>/dev/null
  # one client identity per component; admin is in system:masters
  local who
  for who in admin:system:masters kube-controller-manager: kube-scheduler: kwok:system:masters; do
    local cn="${who%%:*}" org="${who#*:}" subj
    subj="/CN=system:$cn"; [[ "$cn" == admin ]] && subj="/CN=admin"
    [[ "$cn" == kwok ]] && subj="/CN=kwok"
    [[ -n "$org" ]] && subj="/O=$org$subj"
    openssl req -newkey rsa:2048 -nodes -subj "$subj" -keyout "$c/$cn.key" -out "$c/$cn.csr" 2>/dev/null
    openssl x509 -req -in "$c/$cn.csr" -CA "$c/ca.crt" -CAkey "$c/ca.key" -CAcreateserial -days 2 \
      -out "$c/$cn.crt" 2>/dev/null
    kubeconfig "$cn" > "$DIR/$cn.kubeconfig"
  done
  cp "$DIR/admin.kubeconfig" "$DIR/kubeconfig"
  openssl genrsa -out "$c/sa.key" 2048 2>/dev/null
  openssl rsa -in "$c/sa.key" -pubout -out "$c/sa.pub" 2>/dev/null
}

kubeconfig() {
  local c="$DIR/pki"
  cat <<YAML
apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority: $c/ca.crt
users:
- name: $1
  user:
    client-certificate: $c/$1.crt
    client-key: $c/$1.key
contexts:
- name: e2e
  context: {cluster: e2e, user: $1}
current-context: e2e
YAML
}

spawn() { # spawn <name> <cmd...>: background, log to logs/<name>.log, PID to pids
  local name="$1"; shift
  "$@" > "$DIR/logs/$name.log" 2>&1 &
  echo "$! $name" >> "$DIR/pids"
}

node_manifest() {
  cat <<YAML
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$1
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/hostname: kwok-node-$1
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    type: kwok
status:
  allocatable: {cpu: "16", memory: 64Gi, pods: "110", ephemeral-storage: 100Gi}
  capacity: {cpu: "16", memory: 64Gi, pods: "110", ephemeral-storage: 100Gi}
YAML
}

# Storage: no provisioner runs here, so the cluster comes with static volumes (no class), as a
# provisioner would make them; the controller-manager binds claims to them.
volume_manifest() {
  cat <<YAML
apiVersion: v1
kind: PersistentVolume
metadata:
  name: e2e-pv-$1
spec:
  capacity: {storage: 50Gi}
  accessModes: [ReadWriteOnce, ReadWriteMany]
  persistentVolumeReclaimPolicy: Delete
  hostPath: {path: $DIR/volumes/$1}
YAML
}

start() {
  local etcd k8s kwok p
  etcd="$("$TOOLS" path etcd)" || die "etcd is not built"
  k8s="$("$TOOLS" path kubernetes)" || die "kube-apiserver is not built"
  kwok="$("$TOOLS" path kwok)" || die "kwok is not built"
  KUBECTL="$("$TOOLS" path kubectl)/kubectl" || die "kubectl is not built"
  for p in "$ETCD_PORT" "$ETCD_PEER_PORT" "$API_PORT" "$CM_PORT" "$SCHED_PORT" "$KWOK_PORT"; do
    port_free "$p" || die "127.0.0.1:$p is in use (set E2E_*_PORT to free ports)"
  done
  mkdir -p "$DIR/logs" "$DIR/etcd"; : > "$DIR/pids"
  certs
  local c="$DIR/pki"
  spawn etcd "$etcd/etcd" --name e2e --data-dir "$DIR/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "e2e=http://127.0.0.1:$ETCD_PEER_PORT" --listen-metrics-urls "" \
    --quota-backend-bytes 2147483648
  wait_for etcd 60 curl -sf "http://127.0.0.1:$ETCD_PORT/health"
  log "etcd up on 127.0.0.1:$ETCD_PORT"
  # endpoint-reconciler none: the API server refuses a loopback address in the kubernetes
  # Endpoints object, and nothing here routes to it anyway.
  # Admission webhooks off: a webhook (the Prometheus operator's) would make the API server dial
  # a Service's cluster IP, which here leads nowhere but off the machine; objects are still
  # validated against their schemas (built-in types, CRD OpenAPI), defaulted and stored.
  spawn kube-apiserver "$k8s/kube-apiserver" --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$API_PORT" \
    --endpoint-reconciler-type none \
    --tls-cert-file "$c/apiserver.crt" --tls-private-key-file "$c/apiserver.key" --client-ca-file "$c/ca.crt" \
    --service-account-issuer https://kubernetes.default.svc --service-account-key-file "$c/sa.pub" \
    --service-account-signing-key-file "$c/sa.key" --service-cluster-ip-range "$SERVICE_CIDR" \
    --authorization-mode Node,RBAC --allow-privileged=true --enable-priority-and-fairness=false \
    --disable-admission-plugins ValidatingAdmissionWebhook,MutatingAdmissionWebhook \
    --cert-dir "$DIR/pki/apiserver-generated"
  wait_for kube-apiserver 180 "$KUBECTL" --kubeconfig "$DIR/kubeconfig" get --raw /readyz
  log "kube-apiserver up on https://127.0.0.1:$API_PORT"
  spawn kube-controller-manager "$k8s/kube-controller-manager" --kubeconfig "$DIR/kube-controller-manager.kubeconfig" \
    --authentication-kubeconfig "$DIR/kube-controller-manager.kubeconfig" \
    --authorization-kubeconfig "$DIR/kube-controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$CM_PORT" --leader-elect=false \
    --service-account-private-key-file "$c/sa.key" --root-ca-file "$c/ca.crt" \
    --use-service-account-credentials=true --cluster-signing-cert-file "$c/ca.crt" \
    --cluster-signing-key-file "$c/ca.key" --controllers '*,-nodeipam'
  spawn kube-scheduler "$k8s/kube-scheduler" --kubeconfig "$DIR/kube-scheduler.kubeconfig" \
    --authentication-kubeconfig "$DIR/kube-scheduler.kubeconfig" --authorization-kubeconfig "$DIR/kube-scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$SCHED_PORT" --leader-elect=false
  spawn kwok "$kwok/kwok" --kubeconfig "$DIR/kwok.kubeconfig" --config "$kwok/stages.yaml" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
    --node-ip 127.0.0.1 --cidr "$POD_CIDR" --server-address "127.0.0.1:$KWOK_PORT"
  local i; for ((i = 0; i < NODES; i++)); do node_manifest "$i"; echo "---"; done \
    | "$KUBECTL" --kubeconfig "$DIR/kubeconfig" apply -f - >/dev/null
  for ((i = 0; i < ${E2E_VOLUMES:-6}; i++)); do volume_manifest "$i"; echo "---"; done \
    | "$KUBECTL" --kubeconfig "$DIR/kubeconfig" apply -f - >/dev/null
  wait_for "kwok nodes" 120 bash -c "[[ \$('$KUBECTL' --kubeconfig '$DIR/kubeconfig' get nodes -o jsonpath='{.items[*].status.conditions[?(@.type==\"Ready\")].status}' | tr ' ' '\n' | grep -c True) -ge $NODES ]]"
  wait_for "default service account" 120 "$KUBECTL" --kubeconfig "$DIR/kubeconfig" -n default get serviceaccount default
  log "control plane ready: $NODES kwok nodes Ready, kubeconfig $DIR/kubeconfig"
}

stop() {
  [[ -f "$DIR/pids" ]] || return 0
  local pid name
  # reverse start order, SIGTERM then (after 10 s) SIGKILL, each by its recorded PID
  tac "$DIR/pids" | while read -r pid name; do
    kill -TERM "$pid" 2>/dev/null || continue
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$pid" 2>/dev/null && log "killed $name ($pid)" || true
  done
  rm -f "$DIR/pids"
}

case "${1:-}" in
  start) DIR="$(mkdir -p "$2" && cd "$2" && pwd)"; start ;;
  stop) DIR="$2"; stop ;;
  *) echo "usage: scripts/e2e/cluster.sh start|stop <dir>" >&2; exit 2 ;;
esac
