# shellcheck shell=bash
# `hack/testbed-node smoke`: the proof that the node runs pods, on a running node (the
# NetworkPolicy check is smoke_netpol, in hack/lib/netpol.sh).

# smoke_step LABEL CMD...: run CMD, print its output on one line.
smoke_step() {
  local label=$1 out
  shift
  if out=$("$@" 2>&1); then
    say "smoke: $label: ok: $(tr '\n' ' ' <<<"$out")"
  else
    say "smoke: $label: FAILED: $(tr '\n' ' ' <<<"$out")" >&2
    return 1
  fi
}

# Packets QCNODE-FORWARD dropped on their way out of the bridge.
egress_drops() {
  iptables -w 5 -t mangle -L QCNODE-FORWARD -v -x -n | awk -v b="$BRIDGE" '$3 == "DROP" && $6 == b { print $1 }'
}

# smoke_egress NS POD: a Service whose endpoint lies off the node (TEST-NET-2, routed into a veth
# pair whose far end is on this machine and has no address, so even a failing check sends nothing
# off it) must be unreachable from a pod and from the host, and the drop rules must count it.
smoke_egress() {
  local ns=$1 pod=$2 dev=qcprobe0 before after svc rc=0
  if ! ip link add "$dev" type veth peer name qcprobe1 2>/dev/null; then
    say "smoke: egress check skipped (cannot create a veth pair)"
    return 0
  fi
  ip link set qcprobe1 up
  ip addr add 198.51.100.1/24 dev "$dev" && ip link set "$dev" up
  kubectl_ -n "$ns" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Service
metadata: {name: outside}
spec:
  ports: [{name: http, port: 80, targetPort: 80}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: outside-1
  labels: {kubernetes.io/service-name: outside}
addressType: IPv4
ports: [{name: http, port: 80, protocol: TCP}]
endpoints: [{addresses: [198.51.100.2]}]
EOF
  svc=$(kubectl_ -n "$ns" get service outside -o jsonpath='{.spec.clusterIP}')
  sleep 3 # kube-proxy's minimum sync period is 1 s
  before=$(egress_drops)
  if kubectl_ -n "$ns" exec "$pod" -- timeout 3 wget -qO- "http://$svc/" >/dev/null 2>&1; then
    say "smoke: pod -> off-node endpoint via Service $svc: REACHED (must not happen)" >&2
    rc=1
  fi
  after=$(egress_drops)
  if ((rc == 0 && after > before)); then
    say "smoke: pod -> off-node endpoint via Service $svc: dropped by QCNODE-FORWARD ($((after - before)) packets)"
  else
    say "smoke: pod -> off-node endpoint: the drop rule did not count it (before $before, after $after)" >&2
    rc=1
  fi
  if curl -fsS --max-time 3 -o /dev/null "http://$svc/" 2>/dev/null; then
    say "smoke: host -> off-node endpoint via Service $svc: REACHED (must not happen)" >&2
    rc=1
  else
    say "smoke: host -> off-node endpoint via Service $svc: rejected by QCNODE-OUTPUT"
  fi
  ip link delete "$dev" 2>/dev/null || true
  return "$rc"
}

# smoke_cluster NS POD: cluster DNS, the API server through the `kubernetes` Service, and the
# forwarders to the test bed's servers (those running), from a busybox pod.
smoke_cluster() {
  local ns=$1 pod=$2 rc=0 name port
  # shellcheck disable=SC2016 # expanded in the pod
  smoke_step "DNS web.$ns.svc.$CLUSTER_DOMAIN" kubectl_ -n "$ns" exec "$pod" -- \
    sh -c "nslookup web.$ns.svc.$CLUSTER_DOMAIN | awk '/^Address: / { print \$2 }' | grep ." || rc=1
  smoke_step "pod -> http://web/ (short name, search path)" kubectl_ -n "$ns" exec "$pod" -- timeout 5 wget -qO- http://web/ || rc=1
  smoke_step "DNS: a name outside the cluster is NXDOMAIN (nothing upstream)" kubectl_ -n "$ns" exec "$pod" -- \
    sh -c 'nslookup example.com 2>&1 | grep -m1 NXDOMAIN' || rc=1
  # shellcheck disable=SC2016 # expanded in the pod
  smoke_step "pod -> https://kubernetes.default.svc/version (service account token)" kubectl_ -n "$ns" exec "$pod" -- \
    sh -c 'timeout 10 wget -qO- --no-check-certificate --header "Authorization: Bearer $(cat /var/run/secrets/kubernetes.io/serviceaccount/token)" https://kubernetes.default.svc/version | grep gitVersion' || rc=1
  for name in redis elasticsearch postgres mariadb kafka ferretdb; do
    port=${FORWARDS[$name]}
    if ! port_open 127.0.0.1 "$port"; then say "smoke: pod -> $name $NODE_IP:$port: skipped (not running)"; continue; fi
    case $name in
      redis) smoke_step "pod -> redis $NODE_IP:$port (PING)" kubectl_ -n "$ns" exec "$pod" -- \
        sh -c "printf 'PING\r\n' | timeout 3 nc $NODE_IP $port | grep PONG" || rc=1 ;;
      elasticsearch) smoke_step "pod -> elasticsearch $NODE_IP:$port" kubectl_ -n "$ns" exec "$pod" -- \
        sh -c "timeout 5 wget -qO- http://$NODE_IP:$port/ | grep -m1 cluster_name" || rc=1 ;;
      postgres) smoke_step "pod -> postgres $NODE_IP:$port (SSLRequest answered)" kubectl_ -n "$ns" exec "$pod" -- \
        sh -c "printf '\\000\\000\\000\\010\\004\\322\\026\\057' | timeout 3 nc $NODE_IP $port | grep -E '^[NS]'" || rc=1 ;;
      mariadb) smoke_step "pod -> mariadb $NODE_IP:$port (greeting)" kubectl_ -n "$ns" exec "$pod" -- \
        sh -c "timeout 3 nc $NODE_IP $port </dev/null | strings | grep -m1 -o MariaDB" || rc=1 ;;
      *) say "smoke: pod -> $name $NODE_IP:$port: forwarded (no busybox client; checked with the platform image by hand)" ;;
    esac
  done
  return "$rc"
}

# smoke: the proof that the node runs pods. Needs a running node.
cmd_smoke() {
  local ns="node-smoke-$$" t0 rc=0 ips ip1 ip2 pod svc
  node_ready || die "node $NODE_NAME is not Ready: run hack/testbed-node up"
  local placement="      nodeSelector: {quckchat.io/node-kind: real}
      tolerations: [{key: quckchat.io/node-kind, operator: Equal, value: real, effect: NoSchedule}]
      enableServiceLinks: false
      terminationGracePeriodSeconds: 2"
  kubectl_ create namespace "$ns" >/dev/null
  t0=$(now)
  kubectl_ -n "$ns" apply -f - >/dev/null <<EOF
apiVersion: apps/v1
kind: Deployment
metadata: {name: pause}
spec:
  replicas: 3
  selector: {matchLabels: {app: pause}}
  template:
    metadata: {labels: {app: pause}}
    spec:
$placement
      containers:
      - {name: pause, image: $PAUSE_IMAGE, imagePullPolicy: Never}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
$placement
      containers:
      - name: web
        image: $BUSYBOX_IMAGE
        imagePullPolicy: Never
        command: [sh, -c, 'mkdir -p /tmp/www && hostname >/tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www']
        readinessProbe:
          exec: {command: [wget, -q, -O, /dev/null, 'http://127.0.0.1:8080/']}
          periodSeconds: 2
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
EOF
  if kubectl_ -n "$ns" wait deployment/pause --for=jsonpath='{.status.readyReplicas}'=3 --timeout=120s >/dev/null; then
    say "smoke: 3/3 pause replicas Ready in $(since "$t0")"
  else
    say "smoke: pause replicas not Ready" >&2; rc=1
  fi
  if kubectl_ -n "$ns" wait deployment/web --for=jsonpath='{.status.readyReplicas}'=2 --timeout=120s >/dev/null; then
    say "smoke: 2/2 busybox httpd replicas Ready (exec readiness probe) in $(since "$t0")"
  else
    say "smoke: busybox replicas not Ready" >&2; rc=1
  fi
  ips=$(kubectl_ -n "$ns" get pods -l app=web -o jsonpath='{range .items[*]}{.metadata.name} {.status.podIP}{"\n"}{end}')
  pod=$(awk 'NR == 1 { print $1 }' <<<"$ips") ip1=$(awk 'NR == 1 { print $2 }' <<<"$ips") ip2=$(awk 'NR == 2 { print $2 }' <<<"$ips")
  svc=$(kubectl_ -n "$ns" get service web -o jsonpath='{.spec.clusterIP}')
  # busybox's `timeout`, not `wget -T`: Debian's static busybox 1.35 wget segfaults with -T.
  if [[ -n $pod && -n $ip2 && -n $svc ]]; then
    # shellcheck disable=SC2016 # expanded in the pod
    smoke_step "exec" kubectl_ -n "$ns" exec "$pod" -- sh -c 'echo "$(hostname) uid=$(id -u)"' || rc=1
    smoke_step "pod $ip1 -> pod $ip2" kubectl_ -n "$ns" exec "$pod" -- timeout 5 wget -qO- "http://$ip2:8080/" || rc=1
    smoke_step "pod -> Service $svc:80" kubectl_ -n "$ns" exec "$pod" -- timeout 5 wget -qO- "http://$svc/" || rc=1
    smoke_step "host -> Service $svc:80" curl -fsS --max-time 5 "http://$svc/" || rc=1
    smoke_egress "$ns" "$pod" || rc=1
    smoke_netpol "$ns" "$pod" "$ip2" || rc=1
    smoke_cluster "$ns" "$pod" || rc=1
  else
    say "smoke: no web pods or Service IP" >&2
    rc=1
  fi
  t0=$(now)
  kubectl_ delete namespace "$ns" --wait=true --timeout=120s >/dev/null || rc=1
  say "smoke: namespace deleted in $(since "$t0")"
  return "$rc"
}
