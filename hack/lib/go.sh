# shellcheck shell=bash
# Go builds from the module proxy, shared by the servers built from Go modules (ferretdb,
# versitygw, mailpit, kube, the node's kubelet and kube-proxy, kube-router): one module and build cache
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

# go_install_module LABEL BIN PACKAGE@VERSION LDFLAGS: `go install` of a module that builds from
# its own go.mod (no wrapper module) into BIN, rebuilt only when PACKAGE or LDFLAGS change (a
# stamp beside BIN); the build's output goes to $LOG_DIR/LABEL-build.log.
# shellcheck disable=SC2034  # FAIL_LOG and FAIL_REASON are read by the sourcing script
go_install_module() {
  local label=$1 bin=$2 package=$3 ldflags=$4 stamp tmp blog t0
  command -v go >/dev/null || { FAIL_REASON="go is not installed (Go >= 1.26 is needed)"; return 1; }
  stamp="$package -trimpath $ldflags"
  [[ -x $bin && $(cat "$bin.stamp" 2>/dev/null) == "$stamp" ]] && return 0
  blog="$LOG_DIR/$label-build.log"
  FAIL_LOG=$blog
  t0=$(now)
  mkdir -p "${bin%/*}" "$KUBE_GO_CACHE" || return 1
  tmp=$(mktemp -d "${bin%/*}/.build.XXXXXX") || return 1
  if ! (cd "$tmp" && GOBIN="$tmp" kube_go install -trimpath -ldflags="$ldflags" "$package") \
    </dev/null >"$blog" 2>&1 9>&-; then
    rm -rf "$tmp"
    return 1
  fi
  mv -f "$tmp/${bin##*/}" "$bin" && rm -rf "$tmp" || return 1
  echo "$stamp" >"$bin.stamp"
  say "$label: $package build took $(since "$t0")"
}
