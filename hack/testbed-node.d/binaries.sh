# shellcheck shell=bash
# The node's binaries built from the Go module proxy (kube-router's is in hack/lib/netpol.sh):
# kubelet and kube-proxy into the control plane's $KUBE_BIN, CoreDNS into its own cache dir.

# Cluster DNS: CoreDNS from its Go module, a host process on the bridge address only (config.sh).
COREDNS_VERSION=1.12.4
COREDNS_BIN="$CACHE_DIR/coredns-$COREDNS_VERSION/coredns"

# kubelet and kube-proxy from the control plane's wrapper module. Its go.sum lacks the modules
# only these two import, so the build runs in a copy under the cache whose go.mod/go.sum `go get`
# completes; every requirement of the original must come out unchanged (same versions as the
# apiserver), only additions are accepted. Cached per hash of the module and flags.
build_node_binaries() {
  local mod="$CACHE_DIR/kube-$KUBE_VERSION/node-module" tmp="$KUBE_BIN/.node.tmp.$$" stamp ld t0
  local log="$LOG_DIR/build.log"
  ld=$(kube_ldflags)
  stamp=$(kube_stamp "$KUBE_MODULE" "$ld selinux,notest,grpcnotrace")
  if [[ $(cat "$KUBE_BIN/.node.stamp" 2>/dev/null) == "$stamp" && -x $KUBE_BIN/kubelet && -x $KUBE_BIN/kube-proxy ]]; then
    return 0
  fi
  command -v go >/dev/null || { say "go is not installed" >&2; return 1; }
  mkdir -p "$KUBE_BIN" "$mod" || return 1
  t0=$(now)
  rm -rf "$tmp" && mkdir -p "$tmp" || return 1
  cp "$KUBE_MODULE/go.mod" "$KUBE_MODULE/go.sum" "$mod/" || return 1
  printf '== go get kubelet kube-proxy v%s\n' "$KUBE_VERSION" >>"$log"
  (cd "$mod" && kube_go get "k8s.io/kubernetes/cmd/kubelet@v$KUBE_VERSION" \
    "k8s.io/kubernetes/cmd/kube-proxy@v$KUBE_VERSION") </dev/null >>"$log" 2>&1 || {
    say "go get kubelet/kube-proxy FAILED, see $log" >&2; return 1; }
  if grep -vxF -f "$mod/go.mod" "$KUBE_MODULE/go.mod" >>"$log"; then
    say "completing hack/kube/k8s for kubelet changed a pinned requirement (lines above in $log)" >&2
    return 1
  fi
  printf '== go build kubelet kube-proxy\n' >>"$log"
  (cd "$mod" && kube_go build -trimpath -tags=selinux,notest,grpcnotrace -ldflags="$ld" -o "$tmp/" \
    k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy) </dev/null >>"$log" 2>&1 || {
    say "build of kubelet/kube-proxy FAILED, see $log" >&2; return 1; }
  # Renames, so a running kubelet keeps its old inode.
  mv -f "$tmp/kubelet" "$tmp/kube-proxy" "$KUBE_BIN/" && rm -rf "$tmp" || return 1
  echo "$stamp" >"$KUBE_BIN/.node.stamp"
  say "kubelet, kube-proxy v$KUBE_VERSION: build took $(since "$t0")"
}

# CoreDNS from its Go module (`go install module@version`, its own go.mod/go.sum), cached.
build_coredns() {
  local dir=${COREDNS_BIN%/*} tmp stamp t0
  stamp="github.com/coredns/coredns@v$COREDNS_VERSION -trimpath -s -w"
  [[ -x $COREDNS_BIN && $(cat "$dir/.stamp" 2>/dev/null) == "$stamp" ]] && return 0
  command -v go >/dev/null || { say "go is not installed" >&2; return 1; }
  tmp="$dir/.tmp.$$"
  rm -rf "$tmp" && mkdir -p "$tmp" || return 1
  t0=$(now)
  printf '== go install github.com/coredns/coredns@v%s\n' "$COREDNS_VERSION" >>"$LOG_DIR/build.log"
  (cd "$tmp" && GOBIN="$tmp" kube_go install -trimpath -ldflags="-s -w" "github.com/coredns/coredns@v$COREDNS_VERSION") \
    </dev/null >>"$LOG_DIR/build.log" 2>&1 || { say "build of coredns FAILED, see $LOG_DIR/build.log" >&2; return 1; }
  mv -f "$tmp/coredns" "$COREDNS_BIN" && rm -rf "$tmp" || return 1
  echo "$stamp" >"$dir/.stamp"
  say "coredns v$COREDNS_VERSION: build took $(since "$t0")"
}
