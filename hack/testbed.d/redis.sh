# shellcheck shell=bash
# shellcheck disable=SC2034  # FAIL_LOG and FAIL_REASON are read by hack/testbed, which sources this file
# Redis 7 on 127.0.0.1:$REDIS_PORT, in memory only.

register_server redis "127.0.0.1:$REDIS_PORT" "$STATE_DIR/redis/redis.log" \
  "QUCKCHAT_TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"

install_redis() {
  if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
    ensure_packages redis-server redis-tools
  fi
}

redis_running() { pid_alive "$STATE_DIR/redis/redis.pid" redis-server; }

check_redis() {
  [[ $(timeout 3 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]
}

start_redis() {
  local home="$STATE_DIR/redis"
  mkdir -p "$home" || return 1
  FAIL_LOG="$home/redis.log"
  if ! redis_running; then
    ports_free "$REDIS_PORT" || return 1
    # No config file: Debian's /etc/redis/redis.conf would bring its own port, dir and save rules.
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
      --daemonize yes --pidfile "$home/redis.pid" --logfile "$home/redis.log" --dir "$home" \
      </dev/null >>"$home/redis.out" 2>&1 9>&- || return 1
  fi
  wait_ready 30 redis_running check_redis
}

stop_redis() {
  local pidfile="$STATE_DIR/redis/redis.pid"
  redis_running || return 0
  timeout 10 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  kill_and_wait "$pidfile" redis-server 15
}
