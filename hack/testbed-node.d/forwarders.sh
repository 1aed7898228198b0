# shellcheck shell=bash
# The test bed's servers, as pods reach them: socat on $NODE_IP:PORT to 127.0.0.1:PORT (same
# port; Kafka's is its BRIDGE listener, advertised as $NODE_IP). kube-apiserver too: the
# `kubernetes` Service's endpoint is $NODE_IP:$KUBE_API_PORT (set at up, removed at down).
declare -A FORWARDS=(
  [postgres]=$PG_PORT [mariadb]=$MARIADB_PORT [redis]=$REDIS_PORT [kafka]=$KAFKA_BRIDGE_PORT
  [ferretdb]=$FERRETDB_PORT [elasticsearch]=$ELASTICSEARCH_PORT [s3]=$S3_PORT [clamav]=$CLAMD_PORT
  [mailpit]=$MAILPIT_SMTP_PORT [kube-apiserver]=$KUBE_API_PORT
)

# Forwarders: one socat per port in FORWARDS, listening on $NODE_IP only (so only the host and
# pods reach it) and connecting to the same port on 127.0.0.1; pid recorded as fwd-NAME. socat
# forks a child per connection, in its session: down stops the whole process group.
fwd_running() { pid_alive "$(pidfile "fwd-$1")" "TCP-LISTEN:${FORWARDS[$1]},bind=$NODE_IP,"; }

fwd_listening() {
  ss -Hltn "sport = :${FORWARDS[$1]}" 2>/dev/null | awk -v a="$NODE_IP:${FORWARDS[$1]}" '$4 == a { f = 1 } END { exit !f }'
}

start_forwarders() {
  local name socat
  socat=$(command -v socat) || { say "socat is not installed" >&2; return 1; }
  for name in "${!FORWARDS[@]}"; do
    fwd_running "$name" && continue
    if fwd_listening "$name"; then
      say "$NODE_IP:${FORWARDS[$name]} ($name) is taken by another process" >&2
      return 1
    fi
    launch "fwd-$name" "$socat" "TCP-LISTEN:${FORWARDS[$name]},bind=$NODE_IP,fork,reuseaddr,backlog=128" \
      "TCP:127.0.0.1:${FORWARDS[$name]}"
  done
  for name in "${!FORWARDS[@]}"; do
    wait_ready 10 true "fwd_listening $name" || { say "forwarder $name did not start, see $LOG_DIR/fwd-$name.log" >&2; return 1; }
  done
}

stop_forwarders() {
  local name pid i
  for name in "${!FORWARDS[@]}"; do
    if fwd_running "$name"; then
      pid=$(head -n1 "$(pidfile "fwd-$name")")
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
      for ((i = 0; i < 10; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    rm -f "$(pidfile "fwd-$name")"
  done
}
