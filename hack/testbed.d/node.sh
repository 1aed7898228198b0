# shellcheck shell=bash
# A real node (kubelet, kube-proxy, containerd, runc) that joins the kube control plane and runs
# real pods; hack/testbed-node builds, starts and stops it, in a process of its own (its own
# lock, its own log). It needs kube, so `up kube node`; only started when named.

NODE_SCRIPT="$REPO_ROOT/hack/testbed-node"
NODE_NAME=${QUCKCHAT_NODE_NAME:-qc-real-0}
NODE_LOG="$STATE_DIR/node/testbed-node.log"

# Its env lines: the servers' addresses for pods (its forwarders), the project's images.
register_server --optional node "$NODE_NAME" "$NODE_LOG" \
  "QUCKCHAT_TEST_REAL_NODE=$NODE_NAME"$'\n'"$("$NODE_SCRIPT" env 2>/dev/null || true)" real-node

install_node() { :; } # hack/testbed-node up installs and builds what it lacks
start_node() {
  mkdir -p "$STATE_DIR/node"
  FAIL_LOG=$NODE_LOG
  "$NODE_SCRIPT" up 9>&- >>"$FAIL_LOG" 2>&1
}
stop_node() {
  [[ -d $STATE_DIR/node ]] || return 0
  "$NODE_SCRIPT" down >>"$NODE_LOG" 2>&1
}
node_running() { [[ -d $STATE_DIR/node ]] && "$NODE_SCRIPT" status >/dev/null 2>&1; }
check_node() { node_running; }
