# shellcheck shell=bash
# Go builds from the module proxy, shared by the servers built from Go modules (ferretdb,
# versitygw, kube, the node's kubelet and kube-proxy, kube-router): one module and build cache
# under $CACHE_DIR/go, the installed toolchain only, static binaries.

KUBE_GO_CACHE="$CACHE_DIR/go"

kube_go() {
  GOTOOLCHAIN=local CGO_ENABLED=0 GOMODCACHE="$KUBE_GO_CACHE/mod" GOCACHE="$KUBE_GO_CACHE/build" go "$@"
}

# kube_stamp DIR FLAGS: hash of a build's inputs, so an edited go.mod/go.sum or flag set rebuilds
# and an unchanged one does not.
kube_stamp() { { cat "$1/go.mod" "$1/go.sum" 2>/dev/null; printf '%s' "$2"; } | sha256sum | cut -d' ' -f1; }

# The -ldflags of a Kubernetes binary of release $KUBE_VERSION.
kube_ldflags() {
  local major=${KUBE_VERSION%%.*} minor p flags="-s -w"
  minor=${KUBE_VERSION#*.} minor=${minor%%.*}
  # Without these the binaries report v0.0.0-master in /version and `kubectl version`.
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $p.gitVersion=v$KUBE_VERSION -X $p.gitMajor=$major -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  echo "$flags"
}
