# shellcheck shell=bash
# shellcheck disable=SC2034  # FAIL_LOG and FAIL_REASON are read by hack/testbed, which sources this file
# An S3-compatible object store on 127.0.0.1:$S3_PORT: versitygw 1.8.0 on its posix backend
# (one directory per bucket under $STATE_DIR/s3/data, object metadata in extended attributes),
# one root account with the test bed's fixed keys. Built from its Go module with `go install`;
# the binary is cached per version, rebuilt only when the version or flags change. It takes only
# SigV4: botocore presigns with SigV2 unless its client has Config(signature_version="s3v4").

# Fixed test-bed-only credentials of versitygw's root account.
S3_ACCESS_KEY=quckchat
S3_SECRET_KEY=quckchat-secret

register_server s3 "http://127.0.0.1:$S3_PORT" "$STATE_DIR/s3/versitygw.log" \
  "$(printf '%s\n' "QUCKCHAT_TEST_S3_URL=http://127.0.0.1:$S3_PORT" \
    "QUCKCHAT_TEST_S3_ACCESS_KEY=$S3_ACCESS_KEY" "QUCKCHAT_TEST_S3_SECRET_KEY=$S3_SECRET_KEY")" versitygw

S3_VERSION=1.8.0
S3_BIN="$CACHE_DIR/versitygw-$S3_VERSION/versitygw"
S3_PACKAGE="github.com/versity/versitygw/cmd/versitygw@v$S3_VERSION"
S3_LDFLAGS="-s -w -X=main.Version=v$S3_VERSION"

install_s3() {
  # A running server keeps the binary it started with.
  s3_running && return 0
  go_install_module versitygw "$S3_BIN" "$S3_PACKAGE" "$S3_LDFLAGS"
}

s3_running() { pid_alive "$STATE_DIR/s3/versitygw.pid" versitygw; }

# Any HTTP answer means it serves (an unauthenticated GET / gets S3's 403 AccessDenied).
check_s3() {
  s3_running || return 1
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://127.0.0.1:$S3_PORT/" 2>/dev/null)
  [[ -n $code && $code != 000 ]]
}

start_s3() {
  local home="$STATE_DIR/s3"
  mkdir -p "$home/data" || return 1
  FAIL_LOG="$home/versitygw.log"
  if ! s3_running; then
    ports_free "$S3_PORT" || return 1
    start_daemon "$FAIL_LOG" "$home/versitygw.pid" "$S3_BIN" --access "$S3_ACCESS_KEY" \
      --secret "$S3_SECRET_KEY" --port "127.0.0.1:$S3_PORT" --quiet posix "$home/data"
  fi
  wait_ready 30 s3_running check_s3
}

stop_s3() { kill_and_wait "$STATE_DIR/s3/versitygw.pid" versitygw 15; }
