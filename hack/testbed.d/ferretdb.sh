# shellcheck shell=bash
# shellcheck disable=SC2034  # FAIL_LOG and FAIL_REASON are read by hack/testbed, which sources this file
# FerretDB 1.24.2 (the MongoDB wire protocol) on 127.0.0.1:$FERRETDB_PORT, on its PostgreSQL
# backend (the test bed's postgres, so this file needs postgres.sh: database `ferretdb`, one schema
# per MongoDB database), debug/health HTTP on :$FERRETDB_DEBUG_PORT. Built from the Go module proxy
# through the wrapper module hack/ferretdb: `go mod vendor`, then the version.txt FerretDB's
# release build generates is written into the vendored copy (a plain `go install` panics
# without it). The binary is cached per version, rebuilt only when the wrapper module changes.

register_server ferretdb "127.0.0.1:$FERRETDB_PORT" "$STATE_DIR/ferretdb/ferretdb.log" \
  "QUCKCHAT_TEST_MONGODB_URL=mongodb://127.0.0.1:$FERRETDB_PORT/" mongodb mongo

FERRETDB_VERSION=1.24.2
FERRETDB_BIN="$CACHE_DIR/ferretdb-$FERRETDB_VERSION/ferretdb"
FERRETDB_MODULE="$REPO_ROOT/hack/ferretdb"

install_ferretdb() {
  command -v go >/dev/null || { FAIL_REASON="go is not installed (Go >= 1.26 is needed)"; return 1; }
  local stamp tmp blog="$LOG_DIR/ferretdb-build.log" t0
  stamp=$(kube_stamp "$FERRETDB_MODULE" "$FERRETDB_VERSION") || return 1
  [[ -x $FERRETDB_BIN && $(cat "$FERRETDB_BIN.stamp" 2>/dev/null) == "$stamp" ]] && return 0
  # A running server keeps the binary it started with.
  ferretdb_running && return 0
  FAIL_LOG=$blog
  t0=$(now)
  mkdir -p "${FERRETDB_BIN%/*}" "$KUBE_GO_CACHE" || return 1
  tmp=$(mktemp -d "${FERRETDB_BIN%/*}/.build.XXXXXX") || return 1
  cp "$FERRETDB_MODULE"/go.mod "$FERRETDB_MODULE"/go.sum "$FERRETDB_MODULE"/tools.go "$tmp/" || return 1
  if ! (
    cd "$tmp" &&
      kube_go mod vendor &&
      echo "v$FERRETDB_VERSION" >vendor/github.com/FerretDB/FerretDB/build/version/version.txt &&
      kube_go build -mod=vendor -trimpath -ldflags="-s -w" -o ferretdb github.com/FerretDB/FerretDB/cmd/ferretdb
  ) </dev/null >"$blog" 2>&1 9>&-; then
    rm -rf "$tmp"
    return 1
  fi
  mv -f "$tmp/ferretdb" "$FERRETDB_BIN" && rm -rf "$tmp" || return 1
  echo "$stamp" >"$FERRETDB_BIN.stamp"
  say "ferretdb: build took $(since "$t0")"
}

ferretdb_running() { pid_alive "$STATE_DIR/ferretdb/ferretdb.pid" ferretdb; }

check_ferretdb() {
  ferretdb_running && port_open 127.0.0.1 "$FERRETDB_PORT" \
    && curl -fsS --max-time 3 "http://127.0.0.1:$FERRETDB_DEBUG_PORT/debug/readyz" >/dev/null 2>&1
}

start_ferretdb() {
  local home="$STATE_DIR/ferretdb"
  mkdir -p "$home" || return 1
  FAIL_LOG="$home/ferretdb.log"
  if ! ferretdb_running; then
    ports_free "$FERRETDB_PORT" "$FERRETDB_DEBUG_PORT" || return 1
    [[ ! -f $FAIL_LOG ]] || mv -f "$FAIL_LOG" "$FAIL_LOG.prev"
    # On the testbed's PostgreSQL, not SQLite: only this backend pushes query filters down (on
    # SQLite every query but by _id scans the whole collection, so a send slows as history grows).
    if ! check_postgres; then
      FAIL_REASON="ferretdb keeps its data on the testbed's postgres, which is not running"
      return 1
    fi
    PGPASSWORD=quckchat PGCONNECT_TIMEOUT=3 "$(pg_bin)/psql" -h 127.0.0.1 -p "$PG_PORT" \
      -U quckchat -d quckchat -XqtA -v ON_ERROR_STOP=1 >>"$FAIL_LOG" 2>&1 <<'EOF' || return 1
SELECT 'CREATE DATABASE ferretdb OWNER quckchat'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'ferretdb') \gexec
EOF
    setsid "$FERRETDB_BIN" --handler=postgresql \
      --postgresql-url="postgres://quckchat:quckchat@127.0.0.1:$PG_PORT/ferretdb" --state-dir="$home" \
      --listen-addr="127.0.0.1:$FERRETDB_PORT" --debug-addr="127.0.0.1:$FERRETDB_DEBUG_PORT" \
      --telemetry=disable --log-level=warn \
      </dev/null >>"$FAIL_LOG" 2>&1 9>&- &
    echo $! >"$home/ferretdb.pid"
  fi
  wait_ready 30 ferretdb_running check_ferretdb
}

stop_ferretdb() { kill_and_wait "$STATE_DIR/ferretdb/ferretdb.pid" ferretdb 15; }
