# shellcheck shell=bash
# Helpers of hack/testbed and hack/testbed-node, sourced once by each: messages, timing, ports,
# processes by recorded pid, Debian packages. The sourcing script sets SCRIPT_NAME (the prefix
# of its messages) and APT_LOG, and has `set -euo pipefail` on.

# Set by a failing step so the caller's FAILED line points at the log that explains it, or states
# the reason outright when no log has it (a port held by a foreign process).
# shellcheck disable=SC2034  # both are read by the sourcing script's commands
FAIL_LOG=""
FAIL_REASON=""

say() { printf '%s: %s\n' "$SCRIPT_NAME" "$*"; }
die() { say "error: $*" >&2; exit 2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

# Bash's /dev/tcp needs no extra package; timeout guards against a peer that never answers.
port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

# ports_free PORT...: nothing answers on 127.0.0.1:PORT, for every PORT. Otherwise FAIL_REASON
# names them all as given ("port A, B or C is taken by another process"); a PORT may carry a
# label after a space ("26443 (kube-apiserver)"), which the message keeps.
ports_free() {
  local p list
  for p in "$@"; do
    port_open 127.0.0.1 "${p%% *}" || continue
    list=$(printf '%s, ' "$@")
    list=${list%, }
    if (($# > 1)); then list="${list%, *} or ${list##*, }"; fi
    FAIL_REASON="port $list is taken by another process"
    return 1
  done
}

# pid_alive PIDFILE NAME: the pid in PIDFILE is alive and its command line mentions NAME
# (guards against a stale pid file whose number was reused by an unrelated process).
pid_alive() {
  local pid
  [[ -s $1 ]] || return 1
  pid=$(head -n1 "$1" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$2"
}

# kill_and_wait PIDFILE NAME SECONDS [LABEL]: TERM, wait up to SECONDS, then KILL; LABEL (default
# NAME) is what the message calls it.
kill_and_wait() {
  local pid i
  pid_alive "$1" "$2" || { rm -f "$1"; return 0; }
  pid=$(head -n1 "$1")
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < $3 * 2; i++)); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$1"; return 0; }
    sleep 0.5
  done
  say "${4:-$2} did not stop within $3 s, sending KILL"
  kill -KILL "$pid" 2>/dev/null || true
  sleep 0.5
  rm -f "$1"
}

# wait_ready SECONDS ALIVE_CMD READY_CMD: poll READY_CMD, give up early once ALIVE_CMD fails
# (a server that crashed on start should not cost the whole timeout).
wait_ready() {
  local deadline=$((SECONDS + $1)) alive=$2 ready=$3
  until $ready; do
    $alive || { sleep 0.5; $ready && return 0; return 1; }
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
}

# start_daemon LOG PIDFILE CMD...: CMD in its own session, so it outlives this script and a Ctrl-C
# in the caller's terminal; a fresh LOG per start (the previous one kept as .prev). The lock fds
# (8 hack/testbed-node's, 9 hack/testbed's) are closed so no daemon keeps holding a lock.
start_daemon() {
  local log=$1 pidfile=$2
  shift 2
  [[ ! -f $log ]] || mv -f "$log" "$log.prev"
  setsid "$@" </dev/null >>"$log" 2>&1 8>&- 9>&- &
  # Not a process-group leader here, so setsid execs CMD in place: $! is its pid.
  echo $! >"$pidfile"
}

APT_UPDATED=0
POLICY_RC=/usr/sbin/policy-rc.d
POLICY_RC_OURS=0

cleanup() {
  # Remove the temporary "don't start services" policy if this script created it.
  if ((POLICY_RC_OURS)); then rm -f "$POLICY_RC"; fi
}
trap cleanup EXIT

# ensure_packages PKG...: apt-get install the missing ones; apt-get update at most once per run
# and only when something is missing, so a cached machine never touches the network.
ensure_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  FAIL_LOG=$APT_LOG
  if [[ $EUID -ne 0 ]]; then
    say "need root to install: ${missing[*]}" >&2
    return 1
  fi
  # Packaged services would otherwise auto-start their default instances (port 5432/3306/6379,
  # containerd) on machines with an init system; the test bed runs its own instances instead.
  if [[ ! -e $POLICY_RC ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$POLICY_RC"
    chmod +x "$POLICY_RC"
    POLICY_RC_OURS=1
  fi
  say "apt-get install ${missing[*]} (log: $APT_LOG)"
  if ((!APT_UPDATED)); then
    apt-get update >>"$APT_LOG" 2>&1 8>&- 9>&- || return 1
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" \
    </dev/null >>"$APT_LOG" 2>&1 8>&- 9>&- || return 1
  if ((POLICY_RC_OURS)); then rm -f "$POLICY_RC"; POLICY_RC_OURS=0; fi
}
