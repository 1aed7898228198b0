# shellcheck shell=bash
# shellcheck disable=SC2034  # FAIL_LOG and FAIL_REASON are read by hack/testbed, which sources this file
# The kube control plane's binaries, built from the Go module proxy: hack/kube/etcd and
# hack/kube/k8s are wrapper modules whose go.sum pins every module; KWOK is a plain `go install`
# (its own go.mod pins it). Cached per version under ~/.cache/quckchat/kube-$KUBE_VERSION/bin (the
# first build takes ~10 min).

# Newest v1.34 patch whose go.mod the checksum database could verify (later ones were refused).
KUBE_VERSION=1.34.10
KWOK_VERSION=0.7.0
KUBE_BIN="$CACHE_DIR/kube-$KUBE_VERSION/bin"
KUBE_MODULES="$REPO_ROOT/hack/kube"
KUBE_BUILD_LOG="$LOG_DIR/kube-build.log"

# kube_step LABEL DIR GOARGS...: one timed go command in DIR, output to the build log.
kube_step() {
  local label=$1 dir=$2 t0; shift 2
  t0=$(now)
  printf '== %s: go %s\n' "$label" "$*" >>"$KUBE_BUILD_LOG"
  if ! (cd "$dir" && kube_go "$@") </dev/null >>"$KUBE_BUILD_LOG" 2>&1 9>&-; then
    say "kube: $label FAILED after $(since "$t0")"
    return 1
  fi
  say "kube: $label took $(since "$t0")"
}

# kube_built NAME STAMP BIN...: every BIN exists and was built from inputs hashing to STAMP.
kube_built() {
  local name=$1 stamp=$2 b
  shift 2
  [[ $(cat "$KUBE_BIN/.$name.stamp" 2>/dev/null) == "$stamp" ]] || return 1
  for b in "$@"; do [[ -x "$KUBE_BIN/$b" ]] || return 1; done
}

# kube_publish NAME STAMP TMPDIR: move freshly built binaries in (a rename, so a binary that is
# still running keeps its old inode), then record the stamp.
kube_publish() {
  local f
  for f in "$3"/*; do mv -f "$f" "$KUBE_BIN/" || return 1; done
  rm -rf "$3"
  echo "$2" >"$KUBE_BIN/.$1.stamp"
}

build_etcd() {
  local dir="$KUBE_MODULES/etcd" tmp="$KUBE_BIN/.etcd.tmp.$$" stamp
  stamp=$(kube_stamp "$dir" "") || return 1
  kube_built etcd "$stamp" etcd && return 0
  rm -rf "$tmp" && mkdir -p "$tmp" || return 1
  kube_step "etcd: download modules" "$dir" mod download || return 1
  kube_step "etcd: build" "$dir" build -trimpath -ldflags="-s -w" -o "$tmp/etcd" go.etcd.io/etcd/server/v3 \
    || return 1
  kube_publish etcd "$stamp" "$tmp"
}

build_k8s() {
  local dir="$KUBE_MODULES/k8s" tmp="$KUBE_BIN/.k8s.tmp.$$" stamp ld
  local cmds=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
  # The version baked into the binaries must be the one the wrapper module requires.
  if ! grep -Eq "^(require)?[[:space:]]*k8s\.io/kubernetes v$KUBE_VERSION( |$)" "$dir/go.mod"; then
    FAIL_REASON="hack/kube/k8s/go.mod does not require k8s.io/kubernetes v$KUBE_VERSION"
    return 1
  fi
  ld=$(kube_ldflags)
  # Tags as in upstream's release build (notest, grpcnotrace drop test/trace code).
  stamp=$(kube_stamp "$dir" "$ld selinux,notest,grpcnotrace") || return 1
  kube_built k8s "$stamp" "${cmds[@]}" && return 0
  rm -rf "$tmp" && mkdir -p "$tmp" || return 1
  kube_step "k8s: download modules" "$dir" mod download || return 1
  # One invocation for all four, so the packages they share compile once.
  kube_step "k8s: build ${cmds[*]}" "$dir" build -trimpath -tags=selinux,notest,grpcnotrace -ldflags="$ld" \
    -o "$tmp/" "${cmds[@]/#/k8s.io/kubernetes/cmd/}" || return 1
  kube_publish k8s "$stamp" "$tmp"
}

build_kwok() {
  local tmp="$KUBE_BIN/.kwok.tmp.$$" stamp="sigs.k8s.io/kwok@v$KWOK_VERSION"
  kube_built kwok "$stamp" kwok && return 0
  rm -rf "$tmp" && mkdir -p "$tmp" || return 1
  # `go install pkg@version` builds with KWOK's own go.mod/go.sum; run outside any module.
  GOBIN=$tmp kube_step "kwok: download and build" "$tmp" install -trimpath -ldflags="-s -w" \
    "sigs.k8s.io/kwok/cmd/kwok@v$KWOK_VERSION" || return 1
  kube_publish kwok "$stamp" "$tmp"
}
