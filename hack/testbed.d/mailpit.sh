# shellcheck shell=bash
# shellcheck disable=SC2034  # FAIL_LOG and FAIL_REASON are read by hack/testbed, which sources this file
# An SMTP server that keeps what it receives: Mailpit 1.33.1, SMTP on 127.0.0.1:$MAILPIT_SMTP_PORT
# (plain, no STARTTLS, any or no login), its REST API on http://127.0.0.1:$MAILPIT_HTTP_PORT/api/v1.
# Built from its Go module with `go install` (its web UI's built bundle is not in the module; the
# go:embed of ui/ still finds the icons there, and SMTP and the API need nothing more). Nothing
# leaves the machine: no relay or forward is configured and the version check is off. Recipients
# at the reserved top-level domain .invalid (RFC 6761) are refused with 550, so tests can see a
# relay refuse a recipient: Go's regexp has no negative look-ahead, hence "the last 8 characters
# are not .invalid", spelled out.

register_server mailpit "smtp://127.0.0.1:$MAILPIT_SMTP_PORT" "$STATE_DIR/mailpit/mailpit.log" \
  "$(printf '%s\n' "QUCKCHAT_TEST_SMTP_URL=smtp://127.0.0.1:$MAILPIT_SMTP_PORT" \
    "QUCKCHAT_TEST_MAILPIT_URL=http://127.0.0.1:$MAILPIT_HTTP_PORT")" smtp

MAILPIT_VERSION=1.33.1
MAILPIT_BIN="$CACHE_DIR/mailpit-$MAILPIT_VERSION/mailpit"
MAILPIT_PACKAGE="github.com/axllent/mailpit@v$MAILPIT_VERSION"
MAILPIT_LDFLAGS="-s -w -X=github.com/axllent/mailpit/config.Version=v$MAILPIT_VERSION"
MAILPIT_ALLOWED_RECIPIENTS='(?i)(?:^.{0,7}|[^.].{7}|.[^i].{6}|..[^n].{5}|...[^v].{4}|....[^a].{3}|.....[^l].{2}|......[^i].|.......[^d])$'

install_mailpit() {
  # A running server keeps the binary it started with.
  mailpit_running && return 0
  go_install_module mailpit "$MAILPIT_BIN" "$MAILPIT_PACKAGE" "$MAILPIT_LDFLAGS"
}

mailpit_running() { pid_alive "$STATE_DIR/mailpit/mailpit.pid" mailpit; }

check_mailpit() {
  mailpit_running && port_open 127.0.0.1 "$MAILPIT_SMTP_PORT" &&
    curl -fsS --max-time 3 "http://127.0.0.1:$MAILPIT_HTTP_PORT/readyz" >/dev/null 2>&1
}

start_mailpit() {
  local home="$STATE_DIR/mailpit"
  mkdir -p "$home" || return 1
  FAIL_LOG="$home/mailpit.log"
  if ! mailpit_running; then
    ports_free "$MAILPIT_SMTP_PORT" "$MAILPIT_HTTP_PORT" || return 1
    # POP3 starts only with an auth file, so it stays off; rDNS lookups would leave the machine.
    start_daemon "$FAIL_LOG" "$home/mailpit.pid" "$MAILPIT_BIN" \
      --smtp "127.0.0.1:$MAILPIT_SMTP_PORT" --listen "127.0.0.1:$MAILPIT_HTTP_PORT" \
      --database "$home/mailpit.db" --max 5000 --smtp-auth-accept-any --smtp-auth-allow-insecure \
      --smtp-disable-rdns --disable-version-check --block-remote-css-and-fonts \
      --smtp-allowed-recipients "$MAILPIT_ALLOWED_RECIPIENTS"
  fi
  wait_ready 30 mailpit_running check_mailpit
}

stop_mailpit() { kill_and_wait "$STATE_DIR/mailpit/mailpit.pid" mailpit 15; }
