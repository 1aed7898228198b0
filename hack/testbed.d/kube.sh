# shellcheck shell=bash
# shellcheck disable=SC2034  # FAIL_LOG and FAIL_REASON are read by hack/testbed, which sources this file
# Kubernetes control plane without containers, on 127.0.0.1: etcd :$ETCD_PORT, kube-apiserver
# https :$KUBE_API_PORT, kube-controller-manager, kube-scheduler and KWOK (fake kubelets: pods go
# Running/Ready with no process behind them), plus $KUBE_NODES fake Nodes. Built by
# kube-build.sh, configured by kube-config.sh; Helm and checkov come along (chart-tools.sh).

KUBE_HOME="$STATE_DIR/kube"
KUBE_SERVICE_CIDR=10.96.0.0/16
KUBE_NODES=3
# Start order (stop_kube goes the other way).
KUBE_PROCS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

register_server kube "https://127.0.0.1:$KUBE_API_PORT" "$KUBE_HOME/logs/kube-apiserver.log" \
  "QUCKCHAT_TEST_KUBECONFIG=$KUBE_HOME/kubeconfig"$'\n'"QUCKCHAT_TEST_KUBECTL=$KUBE_BIN/kubectl" k8s kubernetes

install_kube() {
  command -v go >/dev/null || { FAIL_REASON="go is not installed (Go >= 1.26 is needed)"; return 1; }
  command -v openssl >/dev/null || ensure_packages openssl || return 1
  command -v curl >/dev/null || ensure_packages curl || return 1
  mkdir -p "$KUBE_BIN" "$KUBE_GO_CACHE" || return 1
  install_chart_tools
  # A running control plane keeps the binaries it started with.
  kube_running && return 0
  FAIL_LOG=$KUBE_BUILD_LOG
  build_etcd || return 1
  build_k8s || return 1
  build_kwok || return 1
}

kube_pidfile() { echo "$KUBE_HOME/run/$1.pid"; }
# "/NAME " matches only that binary's argv[0] (the apiserver's own args mention etcd, for one).
kube_proc_running() { pid_alive "$(kube_pidfile "$1")" "/$1 "; }

kube_all_running() {
  local p
  for p in "${KUBE_PROCS[@]}"; do kube_proc_running "$p" || return 1; done
}

# Any of the five alive (status calls a partly running control plane UNHEALTHY, not stopped).
kube_running() {
  local p
  [[ -d "$KUBE_HOME/run" ]] || return 1
  for p in "${KUBE_PROCS[@]}"; do kube_proc_running "$p" && return 0; done
  return 1
}

kube_token() { awk -F, -v u="$1" '$2 == u { print $1 }' "$KUBE_HOME/tokens.csv"; }

kube_kubectl() { "$KUBE_BIN/kubectl" --kubeconfig="$KUBE_HOME/kubeconfig" --request-timeout=10s "$@"; }

etcd_ready() { [[ $(curl -fsS --max-time 3 "http://127.0.0.1:$ETCD_PORT/health" 2>/dev/null) == *'"health":"true"'* ]]; }
# The token goes in through stdin, not the command line, where ps would show it.
apiserver_ready() {
  [[ $(printf 'Authorization: Bearer %s\n' "$(kube_token admin)" | curl -fsS --max-time 5 \
    --cacert "$KUBE_HOME/pki/ca.crt" -H @- "https://127.0.0.1:$KUBE_API_PORT/readyz" 2>/dev/null) == ok ]]
}
# The controller manager and scheduler serve /healthz with their own self-signed certs.
kcm_ready() { [[ $(curl -fsSk --max-time 3 "https://127.0.0.1:$KCM_PORT/healthz" 2>/dev/null) == ok ]]; }
scheduler_ready() { [[ $(curl -fsSk --max-time 3 "https://127.0.0.1:$SCHEDULER_PORT/healthz" 2>/dev/null) == ok ]]; }
kwok_ready() { [[ $(curl -fsS --max-time 3 "http://127.0.0.1:$KWOK_PORT/healthz" 2>/dev/null) == ok ]]; }

kube_nodes_ready() {
  local n
  n=$(kube_kubectl get nodes -l type=kwok \
    -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' 2>/dev/null \
    | grep -c '^True$')
  ((n >= KUBE_NODES))
}

check_kube() {
  kube_all_running && etcd_ready && apiserver_ready && kcm_ready && scheduler_ready && kwok_ready \
    && kube_nodes_ready
}

# Every process's log: a port held by another process shows in the log of the one that lost it.
logs_kube() { printf '%s\n' "$KUBE_HOME"/logs/*.log; }

# kube_launch NAME ARGS...: $KUBE_BIN/NAME as a daemon, its log in $KUBE_HOME/logs.
kube_launch() { start_daemon "$KUBE_HOME/logs/$1.log" "$(kube_pidfile "$1")" "$KUBE_BIN/$1" "${@:2}"; }

# kube_start_proc NAME PORT SECONDS READY ARGS...: launch NAME unless it runs, wait for READY.
kube_start_proc() {
  local name=$1 port=$2 secs=$3 ready=$4
  shift 4
  FAIL_LOG="$KUBE_HOME/logs/$name.log"
  if ! kube_proc_running "$name"; then
    ports_free "$port ($name)" || return 1
    kube_launch "$name" "$@" || return 1
  fi
  wait_ready "$secs" "kube_proc_running $name" "$ready"
}

start_etcd_proc() {
  # Throwaway test data: no fsync (as envtest does), which matters a lot on a slow disk.
  kube_start_proc etcd "$ETCD_PORT" 30 etcd_ready \
    --name=quckchat-testbed --data-dir="$KUBE_HOME/etcd" --unsafe-no-fsync=true \
    --listen-client-urls="http://127.0.0.1:$ETCD_PORT" --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster="quckchat-testbed=http://127.0.0.1:$ETCD_PEER_PORT"
}

start_apiserver_proc() {
  local pki="$KUBE_HOME/pki"
  # Default admission plugins (none disabled); audit log rotated at 100 MB, one backup.
  # No endpoint reconciler: Endpoints may not hold a loopback address, so the "kubernetes"
  # Service stays without endpoints instead of logging an error every 10 s (no pod runs anyway).
  # Request-header settings let the controller manager, scheduler and any aggregated API
  # server read their client CA from extension-apiserver-authentication.
  kube_start_proc kube-apiserver "$KUBE_API_PORT" 120 apiserver_ready \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$KUBE_API_PORT" \
    --cert-dir="$pki" --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
    --client-ca-file="$pki/ca.crt" --token-auth-file="$KUBE_HOME/tokens.csv" \
    --authorization-mode=Node,RBAC \
    --service-account-issuer="https://127.0.0.1:$KUBE_API_PORT" \
    --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
    --service-cluster-ip-range="$KUBE_SERVICE_CIDR" --allow-privileged=true \
    --audit-policy-file="$KUBE_HOME/audit-policy.yaml" --audit-log-path="$KUBE_HOME/audit/audit.log" \
    --audit-log-maxsize=100 --audit-log-maxbackup=1 \
    --endpoint-reconciler-type=none \
    --requestheader-client-ca-file="$pki/front-proxy-ca.crt" --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --proxy-client-cert-file="$pki/front-proxy-client.crt" --proxy-client-key-file="$pki/front-proxy-client.key"
}

start_kcm_proc() {
  local kc="$KUBE_HOME/kube-controller-manager.kubeconfig" pki="$KUBE_HOME/pki"
  # Cluster signing with the testbed CA, so CertificateSigningRequests get issued too; the
  # FlexVolume dir would otherwise be created under /usr/libexec.
  kube_start_proc kube-controller-manager "$KCM_PORT" 60 kcm_ready \
    --kubeconfig="$kc" --authentication-kubeconfig="$kc" --authorization-kubeconfig="$kc" \
    --bind-address=127.0.0.1 --secure-port="$KCM_PORT" --cert-dir="$KUBE_HOME/kcm-certs" \
    --service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt" \
    --cluster-signing-cert-file="$pki/ca.crt" --cluster-signing-key-file="$pki/ca.key" \
    --service-cluster-ip-range="$KUBE_SERVICE_CIDR" --flex-volume-plugin-dir="$KUBE_HOME/flexvolume" \
    --leader-elect=false --use-service-account-credentials=false \
    --kube-api-qps=100 --kube-api-burst=200
}

start_scheduler_proc() {
  local kc="$KUBE_HOME/kube-scheduler.kubeconfig"
  kube_start_proc kube-scheduler "$SCHEDULER_PORT" 60 scheduler_ready \
    --kubeconfig="$kc" --authentication-kubeconfig="$kc" --authorization-kubeconfig="$kc" \
    --bind-address=127.0.0.1 --secure-port="$SCHEDULER_PORT" --cert-dir="$KUBE_HOME/scheduler-certs" \
    --leader-elect=false
}

start_kwok_proc() {
  # KWOK's built-in stages (no Stage CRDs): nodes heartbeat via leases, pods go Running/Ready,
  # deleted pods are released. A /16 for pod IPs: the default /24 runs out at 254 pods.
  # Only the annotated fake nodes (kube_nodes): a real kubelet's Node (hack/testbed-node) is
  # left to that kubelet.
  kube_start_proc kwok "$KWOK_PORT" 60 kwok_ready \
    --kubeconfig="$KUBE_HOME/kwok.kubeconfig" --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --server-address="127.0.0.1:$KWOK_PORT" --cidr=10.244.0.1/16
}

# Fake nodes for KWOK (annotation kwok.x-k8s.io/node=fake), untainted so any pod lands on them.
kube_nodes() {
  local i
  for ((i = 0; i < KUBE_NODES; i++)); do
    cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    type: kwok
    kubernetes.io/arch: amd64
    kubernetes.io/os: linux
    kubernetes.io/hostname: kwok-node-$i
    node-role.kubernetes.io/agent: ""
status:
  allocatable: {cpu: "32", memory: 256Gi, pods: "110"}
  capacity: {cpu: "32", memory: 256Gi, pods: "110"}
EOF
  done
}

# End to end: a Deployment must reach 2 available replicas (controller manager makes the
# ReplicaSet and pods, the scheduler binds them, KWOK makes them Running/Ready), then the
# namespace must go away (namespace controller + KWOK releasing the pods).
kube_smoke_test() {
  local ns="testbed-smoke-$$" rc=0 t0
  FAIL_LOG="$KUBE_HOME/logs/smoke.log"
  t0=$(now)
  {
    kube_kubectl create namespace "$ns" \
      && kube_kubectl -n "$ns" create deployment smoke --image=example/none:1 --replicas=2 \
      && kube_kubectl -n "$ns" wait deployment/smoke --for=jsonpath='{.status.availableReplicas}'=2 --timeout=90s \
      && echo "2/2 available after $(since "$t0")"
  } >"$FAIL_LOG" 2>&1 || { rc=1; kube_kubectl -n "$ns" get deploy,rs,pods -o wide >>"$FAIL_LOG" 2>&1; }
  t0=$(now)
  kube_kubectl delete namespace "$ns" --wait=true --timeout=60s >>"$FAIL_LOG" 2>&1 || rc=1
  echo "namespace deletion took $(since "$t0")" >>"$FAIL_LOG"
  return "$rc"
}

start_kube() {
  local t0 t1
  t0=$(now)
  mkdir -p "$KUBE_HOME/run" "$KUBE_HOME/logs" "$KUBE_HOME/audit" || return 1
  # etcd wants its data dir private (0700) and warns about anything looser.
  mkdir -p "$KUBE_HOME/etcd" && chmod 0700 "$KUBE_HOME/etcd" || return 1
  kube_pki || return 1
  kube_tokens || return 1
  kube_write_config || return 1
  start_etcd_proc || return 1
  start_apiserver_proc || return 1
  start_kcm_proc || return 1
  start_scheduler_proc || return 1
  start_kwok_proc || return 1
  FAIL_LOG="$KUBE_HOME/logs/nodes.log"
  kube_nodes | kube_kubectl apply -f - >"$FAIL_LOG" 2>&1 || return 1
  wait_ready 60 kube_all_running kube_nodes_ready || { FAIL_LOG="$KUBE_HOME/logs/kwok.log"; return 1; }
  t1=$(now)
  kube_smoke_test || return 1
  say "kube: control plane ready in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1fs", b - a }'), smoke Deployment (2/2 available, namespace deleted) in $(since "$t1")"
}

stop_kube() {
  local p pids=() rc=0
  [[ -n $KUBE_HOME && -d "$KUBE_HOME/run" ]] || return 0
  # The node's pods and mounts go first, while the API server can still see them go.
  stop_node || return 1
  # The apiserver's clients together (each takes ~2 s to wind down), then the apiserver, then
  # etcd, so nothing logs a storm of connection errors.
  for p in kwok kube-scheduler kube-controller-manager; do
    kill_and_wait "$(kube_pidfile "$p")" "/$p " 30 &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  ((rc == 0)) || return 1
  kill_and_wait "$(kube_pidfile kube-apiserver)" "/kube-apiserver " 30 || return 1
  kill_and_wait "$(kube_pidfile etcd)" "/etcd " 30
}

# Extra status lines: each process with its pid and resident memory.
status_detail_kube() {
  local p pid rss
  for p in "${KUBE_PROCS[@]}"; do
    if kube_proc_running "$p"; then
      pid=$(head -n1 "$(kube_pidfile "$p")")
      rss=$(awk '/^VmRSS:/ { printf "%d MB", $2 / 1024 }' "/proc/$pid/status" 2>/dev/null)
      printf 'testbed:   %-24s pid %-8s rss %s\n' "$p" "$pid" "$rss"
    else
      printf 'testbed:   %-24s stopped\n' "$p"
    fi
  done
}
