# shellcheck shell=bash
# The node's NetworkPolicy enforcer, sourced by hack/testbed-node (uses say and kube_go from
# hack/lib, that script's launch, proc_running, kubectl_ and its NODE_*/LOG_DIR/CACHE_DIR variables).
#
# kube-router's network policy controller alone (no routing, no service proxy, no CNI): it turns
# the policies of this node's pods into iptables chains and ipsets. The first choice,
# sigs.k8s.io/kube-network-policies, cannot run on this kernel: it hands packets to user space
# with nftables' `queue` statement, and the kernel is built without CONFIG_NFT_QUEUE
# (`nft add rule ... queue num 100 bypass` fails with "No such file or directory").
# kube-router v2.1.0 is the only version the Go module proxy serves, and security flaws are
# reported against it: it runs here with nothing listening (health and metrics ports off, no BGP,
# no proxy), only as a client of the test bed's own API server.

NETPOL_VERSION=2.1.0
NETPOL_BIN="$CACHE_DIR/kube-router-$NETPOL_VERSION/kube-router"
# The top-level chains kube-router makes at its first sync.
NETPOL_CHAINS=(KUBE-ROUTER-INPUT KUBE-ROUTER-FORWARD KUBE-ROUTER-OUTPUT)

build_netpol() {
  local dir=${NETPOL_BIN%/*} tmp stamp t0
  stamp="github.com/cloudnativelabs/kube-router/v2/cmd/kube-router@v$NETPOL_VERSION -trimpath -s -w"
  [[ -x $NETPOL_BIN && $(cat "$dir/.stamp" 2>/dev/null) == "$stamp" ]] && return 0
  command -v go >/dev/null || { say "go is not installed" >&2; return 1; }
  tmp="$dir/.tmp.$$"
  rm -rf "$tmp" && mkdir -p "$tmp" || return 1
  t0=$(now)
  printf '== go install %s\n' "${stamp%% *}" >>"$LOG_DIR/build.log"
  (cd "$tmp" && GOBIN="$tmp" kube_go install -trimpath -ldflags="-s -w" "${stamp%% *}") \
    </dev/null >>"$LOG_DIR/build.log" 2>&1 || { say "build of kube-router FAILED, see $LOG_DIR/build.log" >&2; return 1; }
  mv -f "$tmp/kube-router" "$NETPOL_BIN" && rm -rf "$tmp" || return 1
  echo "$stamp" >"$dir/.stamp"
  say "kube-router v$NETPOL_VERSION (NetworkPolicy): build took $(since "$t0")"
}

# Ready once its first sync has put its chains in place.
netpol_ready() {
  local c
  for c in "${NETPOL_CHAINS[@]}"; do iptables -w 5 -S "$c" >/dev/null 2>&1 || return 1; done
}

start_netpol() {
  proc_running kube-router && return 0
  launch kube-router "$NETPOL_BIN" --kubeconfig="$NODE_HOME/kubeconfig" \
    --hostname-override="$NODE_NAME" --run-firewall=true --run-router=false \
    --run-service-proxy=false --enable-cni=false --enable-pod-egress=false \
    --service-cluster-ip-range="$SERVICE_CIDR" --health-port=0 --metrics-port=0 \
    --iptables-sync-period=1m --v=1
}

# The ipsets that existed before up, so down removes only kube-router's.
save_ipsets() {
  [[ -e $NODE_HOME/ipsets.before ]] && return 0
  ipset list -n >"$NODE_HOME/ipsets.before.tmp" 2>/dev/null || true
  mv "$NODE_HOME/ipsets.before.tmp" "$NODE_HOME/ipsets.before"
}

# After its iptables chains are gone (nothing references the sets any more).
remove_ipsets() {
  local set
  command -v ipset >/dev/null || return 0
  while IFS= read -r set; do
    [[ -n $set ]] || continue
    if [[ -f $NODE_HOME/ipsets.before ]] && grep -qxF "$set" "$NODE_HOME/ipsets.before"; then continue; fi
    ipset destroy "$set" 2>/dev/null || say "could not destroy ipset $set" >&2
  done < <(ipset list -n 2>/dev/null)
  rm -f "$NODE_HOME/ipsets.before"
}

# smoke_netpol NS POD PEER_IP: a policy admitting only app=pause pods to the web pods blocks
# POD (a web pod) from PEER_IP:8080, and deleting it opens the way again.
smoke_netpol() {
  local ns=$1 pod=$2 ip=$3 rc=0 i
  kubectl_ -n "$ns" apply -f - >/dev/null <<EOF
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-from-pause}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
  ingress: [{from: [{podSelector: {matchLabels: {app: pause}}}], ports: [{port: 8080}]}]
EOF
  # kube-router syncs on the policy's event; give it a few seconds.
  for ((i = 0; i < 10; i++)); do
    kubectl_ -n "$ns" exec "$pod" -- timeout 2 wget -qO- "http://$ip:8080/" >/dev/null 2>&1 || break
    sleep 1
  done
  if ((i == 10)); then
    say "smoke: NetworkPolicy web-from-pause did not block pod -> $ip:8080 (kube-router: $LOG_DIR/kube-router.log)" >&2
    rc=1
  else
    say "smoke: NetworkPolicy: pod -> $ip:8080 blocked once a policy admits only app=pause (kube-router)"
  fi
  kubectl_ -n "$ns" delete networkpolicy web-from-pause >/dev/null
  for ((i = 0; i < 10; i++)); do
    kubectl_ -n "$ns" exec "$pod" -- timeout 2 wget -qO- "http://$ip:8080/" >/dev/null 2>&1 && break
    sleep 1
  done
  if ((i == 10)); then
    say "smoke: NetworkPolicy: pod -> $ip:8080 still blocked after the policy was deleted" >&2
    rc=1
  else
    say "smoke: NetworkPolicy: pod -> $ip:8080 open again once the policy was deleted"
  fi
  return "$rc"
}
