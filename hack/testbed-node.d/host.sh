# shellcheck shell=bash
# What the node changes on the host at up, and down undoes: sysctls, /etc/hosts, the bridge, the
# QCNODE iptables chains (and those kubelet, kube-proxy and the CNI plugins add), mounts, cgroups.

# Sysctls kubelet (panic*, overcommit), the bridge plugin (ip_forward) or kube-proxy may change;
# saved at `up`, restored at `down`.
SYSCTLS=(kernel.panic_on_oops kernel.panic vm.overcommit_memory net.ipv4.ip_forward
  net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables
  net.ipv4.conf.all.route_localnet net.netfilter.nf_conntrack_max
  net.netfilter.nf_conntrack_tcp_timeout_established net.netfilter.nf_conntrack_tcp_timeout_close_wait)
HOSTS_MARK="# hack/testbed-node"

save_host_state() {
  local s v
  # Saved once per up/down cycle: a second up must not record the values kubelet already set.
  if [[ ! -s $NODE_HOME/sysctls.saved ]]; then
    for s in "${SYSCTLS[@]}"; do
      if v=$(sysctl -n "$s" 2>/dev/null); then printf '%s=%s\n' "$s" "$v"; fi
    done >"$NODE_HOME/sysctls.saved.tmp" && mv "$NODE_HOME/sysctls.saved.tmp" "$NODE_HOME/sysctls.saved"
  fi
  if [[ ! -e $NODE_HOME/iptables.before ]]; then
    iptables_chains >"$NODE_HOME/iptables.before.tmp" && mv "$NODE_HOME/iptables.before.tmp" "$NODE_HOME/iptables.before"
  fi
  save_ipsets
  if [[ ! -e $NODE_HOME/cgroups.before ]]; then
    find /sys/fs/cgroup -maxdepth 2 -name kubepods -type d >"$NODE_HOME/cgroups.before" 2>/dev/null || true
  fi
}

restore_sysctls() {
  local line k v cur
  [[ -s $NODE_HOME/sysctls.saved ]] || return 0
  while IFS= read -r line; do
    k=${line%%=*} v=${line#*=}
    cur=$(sysctl -n "$k" 2>/dev/null) || continue
    [[ $cur == "$v" ]] || sysctl -qw "$k=$v" || say "could not restore $k=$v" >&2
  done <"$NODE_HOME/sysctls.saved"
  rm -f "$NODE_HOME/sysctls.saved"
}

# "FAMILY TABLE CHAIN" for every user-defined chain, IPv4 and IPv6.
iptables_chains() {
  local fam t
  for fam in iptables ip6tables; do
    command -v "$fam" >/dev/null || continue
    for t in filter nat mangle raw; do
      "$fam" -w 5 -t "$t" -S 2>/dev/null | awk -v f="$fam" -v t="$t" '$1 == "-N" { print f, t, $2 }'
    done
  done
}

# The node's name must resolve to the kubelet: the apiserver dials the Hostname address first.
ensure_hosts_entry() {
  local addr
  addr=$(getent ahostsv4 "$NODE_NAME" 2>/dev/null | awk 'NR == 1 { print $1 }')
  [[ $addr == 127.* ]] && return 0
  [[ -z $addr ]] || { say "$NODE_NAME resolves to $addr, not to this machine" >&2; return 1; }
  # Appended in place (/etc/hosts may be a bind mount that a rename would not reach).
  printf '127.0.0.1 %s %s\n' "$NODE_NAME" "$HOSTS_MARK" >>/etc/hosts
}

remove_hosts_entry() {
  local rest
  grep -qF -- "$HOSTS_MARK" /etc/hosts 2>/dev/null || return 0
  rest=$(grep -vF -- "$HOSTS_MARK" /etc/hosts)
  printf '%s\n' "$rest" >/etc/hosts
}

ensure_bridge() {
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge || return 1
  fi
  # Not `ip ... | grep -q`: under pipefail grep's early exit fails the pipe (SIGPIPE).
  [[ $(ip addr show dev "$BRIDGE") == *" $NODE_IP/"* ]] || ip addr add "$NODE_IP/${POD_CIDR#*/}" dev "$BRIDGE" || return 1
  ip link set "$BRIDGE" up
}

# Our own chains, jumped to first from FORWARD and OUTPUT (re-inserted at the top after
# kube-proxy has put its own jumps in). Pods talk to each other and to the host, nothing else.
# The forwarding rules live in the mangle table, which packets cross before the filter table:
# kube-router ACCEPTs in filter what a policy allows (or no policy governs), wherever it goes.
ensure_firewall() {
  sysctl -qw net.ipv4.ip_forward=1
  sysctl -qw net.bridge.bridge-nf-call-iptables=1
  iptables -w 5 -t mangle -N QCNODE-FORWARD 2>/dev/null || iptables -w 5 -t mangle -F QCNODE-FORWARD
  iptables -w 5 -N QCNODE-OUTPUT 2>/dev/null || iptables -w 5 -F QCNODE-OUTPUT
  iptables -w 5 -t mangle -A QCNODE-FORWARD -i "$BRIDGE" -o "$BRIDGE" -j RETURN
  iptables -w 5 -t mangle -A QCNODE-FORWARD -i "$BRIDGE" -j DROP
  iptables -w 5 -t mangle -A QCNODE-FORWARD -o "$BRIDGE" -j DROP
  # OUTPUT sees the interface of the route taken before kube-proxy's DNAT, so the host's own
  # packets are judged by their destination after it: this machine or a pod is fine; a Service
  # address (no endpoint), a kwok pod's fake address, or a Service endpoint elsewhere is not.
  iptables -w 5 -A QCNODE-OUTPUT -m addrtype --dst-type LOCAL -j RETURN
  iptables -w 5 -A QCNODE-OUTPUT -d "$POD_CIDR" -j RETURN
  iptables -w 5 -A QCNODE-OUTPUT -m conntrack --ctorigdst "$SERVICE_CIDR" -j REJECT
  for c in "$SERVICE_CIDR" "$KWOK_POD_CIDR"; do
    iptables -w 5 -A QCNODE-OUTPUT -d "$c" -j REJECT
  done
  while iptables -w 5 -t mangle -D FORWARD -j QCNODE-FORWARD 2>/dev/null; do :; done
  while iptables -w 5 -D OUTPUT -j QCNODE-OUTPUT 2>/dev/null; do :; done
  iptables -w 5 -t mangle -I FORWARD 1 -j QCNODE-FORWARD && iptables -w 5 -I OUTPUT 1 -j QCNODE-OUTPUT
}

# Delete the chains that did not exist before up (KUBE-*, CNI-*, QCNODE-*), with the rules in
# other chains that jump to them.
remove_iptables_chains() {
  local fam t c rule
  local -a added=()
  while read -r fam t c; do
    [[ $c == KUBE-* || $c == CNI-* || $c == QCNODE-* ]] || continue
    if [[ -f $NODE_HOME/iptables.before ]] && grep -qxF "$fam $t $c" "$NODE_HOME/iptables.before"; then continue; fi
    added+=("$fam $t $c")
  done < <(iptables_chains)
  for rule in "${added[@]}"; do
    read -r fam t c <<<"$rule"
    # Rules anywhere that jump to it.
    "$fam" -w 5 -t "$t" -S | awk -v c="$c" '$1 == "-A" && / -j / { for (i = 1; i < NF; i++) if ($i == "-j" && $(i + 1) == c) print }' \
      | while IFS= read -r r; do
        eval "\"$fam\" -w 5 -t \"$t\" -D ${r#-A }" 2>/dev/null || true
      done
    "$fam" -w 5 -t "$t" -F "$c" 2>/dev/null || true
  done
  for rule in "${added[@]}"; do
    read -r fam t c <<<"$rule"
    "$fam" -w 5 -t "$t" -X "$c" 2>/dev/null || say "could not delete $fam -t $t chain $c" >&2
  done
  rm -f "$NODE_HOME/iptables.before"
}

# Mount points under DIR, deepest first.
mounts_under() {
  awk -v d="$1/" 'index($5 "/", d) == 1 { print $5 }' /proc/self/mountinfo | sed 's/\\040/ /g' | sort -r
}

unmount_all() {
  local m
  for _ in 1 2 3; do
    while IFS= read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done < <(mounts_under "$NODE_HOME")
    [[ -z $(mounts_under "$NODE_HOME") ]] && return 0
    sleep 1
  done
  say "still mounted under $NODE_HOME: $(mounts_under "$NODE_HOME" | tr '\n' ' ')" >&2
  return 1
}

remove_cgroups() {
  local d
  for d in /sys/fs/cgroup/*/kubepods; do
    [[ -d $d ]] || continue
    if [[ -f $NODE_HOME/cgroups.before ]] && grep -qxF "$d" "$NODE_HOME/cgroups.before"; then continue; fi
    find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
  rm -f "$NODE_HOME/cgroups.before"
}
