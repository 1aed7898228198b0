# shellcheck shell=bash
# Where hack/testbed's servers keep their data, and running a command as a server's OS user
# (postgres, mysql and quckchat-es: the databases and Elasticsearch refuse to run as root).

# Where those users keep their data when they cannot reach $STATE_DIR (see server_home).
ALT_ROOT=/var/lib/quckchat-testbed

# Run a command as another OS user (databases refuse to run as root); from / because the
# caller's cwd (often under /root) is unreadable to that user. No-op switch when not root.
as_user() {
  local user=$1; shift
  if [[ $EUID -eq 0 ]]; then
    (cd / && runuser -u "$user" -- "$@")
  else
    (cd / && "$@")
  fi
}

# server_home NAME USER: directory for a server whose processes run as USER. Under
# $STATE_DIR when USER can reach it; otherwise (root's $HOME is 0700, so the postgres and
# mysql users cannot traverse /root/.cache/...) a private dir under $ALT_ROOT, recorded by a
# symlink $STATE_DIR/NAME -> that dir so later runs and --purge find it again. This avoids
# loosening permissions on $HOME.
# (Callers run inside `if`, where set -e is off, hence the explicit `|| return 1`s.)
server_home() {
  local name=$1 user=$2 link="$STATE_DIR/$1" dir
  # A symlink whose target was deleted by hand: start over with fresh data.
  if [[ -L $link && ! -e $link ]]; then rm -f "$link" || return 1; fi
  if [[ -e $link ]]; then
    readlink -f "$link"
    return
  fi
  if [[ $EUID -ne 0 ]] || runuser -u "$user" -- test -x "$STATE_DIR" 2>/dev/null; then
    dir=$link
    mkdir -p "$dir" || return 1
  else
    mkdir -p "$ALT_ROOT" && chmod 0755 "$ALT_ROOT" || return 1
    dir=$(mktemp -d "$ALT_ROOT/$name.XXXXXX") || return 1
    ln -s "$dir" "$link" || return 1
  fi
  if [[ $EUID -eq 0 ]]; then chown "$user:" "$dir" || return 1; fi
  chmod 0700 "$dir" || return 1
  echo "$dir"
}

# Existing home of a server, or nothing (status/down must not create directories).
existing_home() {
  if [[ -e "$STATE_DIR/$1" ]]; then readlink -f "$STATE_DIR/$1"; fi
}
