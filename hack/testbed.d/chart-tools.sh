# shellcheck shell=bash
# The chart's tools (tests/charts), installed along with kube (install_kube): Helm built from the Go module
# proxy into $KUBE_BIN next to kubectl, and checkov from PyPI in a virtualenv of its own (it pins
# many packages, so never in the project's .venv). Either one failing prints one FAILED line and
# leaves its env line out; the control plane and the other servers carry on.

HELM_VERSION=3.22.0
# The Kubernetes version Helm assumes offline (`helm template`, lint's deprecation rules). Helm's
# Makefile derives it from the k8s.io/client-go it requires: v0.37 for v3.22.0, so 1.37.
HELM_KUBE_MINOR=37
CHECKOV_VERSION=3.3.30
HELM_BIN="$KUBE_BIN/helm"
CHECKOV_HOME="$CACHE_DIR/checkov-$CHECKOV_VERSION"
CHECKOV_BIN="$CHECKOV_HOME/bin/checkov"
CHART_TOOLS_LOG="$LOG_DIR/chart-tools.log"

# tool_step LABEL DIR CMD...: one timed command in DIR, output to the tools' log; prints its time
# on success and nothing on failure (the caller prints the one FAILED line).
tool_step() {
  local label=$1 dir=$2 t0
  shift 2
  t0=$(now)
  printf '== %s: %s\n' "$label" "$*" >>"$CHART_TOOLS_LOG"
  (cd "$dir" && "$@") </dev/null >>"$CHART_TOOLS_LOG" 2>&1 9>&- || return 1
  say "kube: $label took $(since "$t0")"
}

build_helm() {
  local tmp="$KUBE_BIN/.helm.tmp.$$" ld stamp p
  # So `helm version` reports the release instead of the source tree's placeholder, and
  # `helm template` renders for Kubernetes 1.$HELM_KUBE_MINOR instead of its 1.20 fallback.
  ld="-s -w -X helm.sh/helm/v3/internal/version.version=v$HELM_VERSION"
  for p in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
    ld+=" -X $p.k8sVersionMajor=1 -X $p.k8sVersionMinor=$HELM_KUBE_MINOR"
  done
  stamp="helm.sh/helm/v3@v$HELM_VERSION $ld"
  kube_built helm "$stamp" helm && return 0
  rm -rf "$tmp" && mkdir -p "$tmp" || return 1
  # As for kwok: `go install pkg@version` builds with Helm's own go.mod/go.sum, outside any module.
  GOBIN=$tmp tool_step "helm v$HELM_VERSION: download and build" "$tmp" \
    kube_go install -trimpath -ldflags="$ld" "helm.sh/helm/v3/cmd/helm@v$HELM_VERSION" \
    || { rm -rf "$tmp"; return 1; }
  kube_publish helm "$stamp" "$tmp"
}

checkov_venv() {
  python3 -m venv "$CHECKOV_HOME" && "$CHECKOV_HOME/bin/pip" install --no-input "checkov==$CHECKOV_VERSION"
}

# A virtualenv cannot be moved once made, so it is built in place and marked complete at the end;
# an unmarked one (an interrupted install) is started over.
install_checkov() {
  [[ -f "$CHECKOV_HOME/.installed" && -x $CHECKOV_BIN ]] && return 0
  rm -rf "$CHECKOV_HOME" || return 1
  tool_step "checkov $CHECKOV_VERSION: virtualenv and pip install" / checkov_venv || return 1
  touch "$CHECKOV_HOME/.installed"
}

install_chart_tools() {
  build_helm || report helm FAILED "" "(QUCKCHAT_TEST_HELM left out, see $CHART_TOOLS_LOG)"
  install_checkov || report checkov FAILED "" "(QUCKCHAT_TEST_CHECKOV left out, see $CHART_TOOLS_LOG)"
  return 0
}

# The tools' env lines, whenever they are installed: linting and scanning a chart need no server.
chart_tools_env() {
  if [[ -x $HELM_BIN ]]; then echo "QUCKCHAT_TEST_HELM=$HELM_BIN"; fi
  if [[ -f "$CHECKOV_HOME/.installed" && -x $CHECKOV_BIN ]]; then echo "QUCKCHAT_TEST_CHECKOV=$CHECKOV_BIN"; fi
}
