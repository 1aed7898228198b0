# shellcheck shell=bash
# shellcheck disable=SC2034  # FAIL_LOG and FAIL_REASON are read by hack/testbed, which sources this file
# MariaDB 10.11 on 127.0.0.1:$MARIADB_PORT; its own datadir and socket, --no-defaults so /etc/mysql
# (and the packaged service) play no part.

register_server mariadb "127.0.0.1:$MARIADB_PORT" "$STATE_DIR/mariadb/mariadb.log" \
  "QUCKCHAT_TEST_MYSQL_URL=mysql+aiomysql://quckchat:quckchat@127.0.0.1:$MARIADB_PORT/quckchat" mysql

install_mariadb() {
  if ! command -v mariadbd >/dev/null || ! command -v mariadb >/dev/null; then
    ensure_packages mariadb-server mariadb-client
  fi
}

mariadb_running() {
  local home
  home=$(existing_home mariadb)
  [[ -n $home ]] && pid_alive "$home/mariadb.pid" mariadbd
}

check_mariadb() {
  mariadb --no-defaults --protocol=tcp -h 127.0.0.1 -P "$MARIADB_PORT" -u quckchat -pquckchat \
    --connect-timeout=3 -N -e 'select 1' quckchat >/dev/null 2>&1
}

start_mariadb() {
  local home data sock log user_opt=()
  home=$(server_home mariadb mysql) || return 1
  data="$home/data" sock="$home/mariadb.sock" log="$home/mariadb.log"
  FAIL_LOG=$log
  # mariadbd refuses to run as root unless told which user to become.
  [[ $EUID -ne 0 ]] || user_opt=(--user=mysql)
  if ! mariadb_running; then
    ports_free "$MARIADB_PORT" || return 1
    # Marker outside the datadir: a half-finished install-db must be redone from scratch.
    if [[ ! -f "$home/install-db.done" ]]; then
      rm -rf "$data"
      # normal auth: root@localhost without password over our private socket, used only below.
      mariadb-install-db --no-defaults "${user_opt[@]}" --datadir="$data" \
        --auth-root-authentication-method=normal --skip-test-db >>"$home/install-db.log" 2>&1 \
        || { FAIL_LOG="$home/install-db.log"; return 1; }
      touch "$home/install-db.done"
    fi
    # mariadbd does not daemonize: setsid detaches it from our session so it outlives us.
    # utf8mb4 is set explicitly because --no-defaults drops Debian's utf8mb4 server config.
    setsid mariadbd --no-defaults "${user_opt[@]}" --datadir="$data" \
      --bind-address=127.0.0.1 --port="$MARIADB_PORT" --socket="$sock" \
      --pid-file="$home/mariadb.pid" --log-error="$log" \
      --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
      --skip-name-resolve --max-connections=200 \
      --innodb-buffer-pool-size=128M --innodb-flush-log-at-trx-commit=2 \
      </dev/null >>"$home/mariadbd.out" 2>&1 9>&- &
    # The pid file appears only once the server is up; wait on the socket answering,
    # but stop waiting as soon as the process is gone (it crashed on start).
    local mpid=$! i
    for ((i = 0; i < 120; i++)); do
      mariadb-admin --no-defaults --socket="$sock" -u root --connect-timeout=2 ping >/dev/null 2>&1 && break
      kill -0 "$mpid" 2>/dev/null || return 1
      sleep 0.5
    done
  fi
  mariadb --no-defaults --socket="$sock" -u root >>"$log" 2>&1 <<'EOF' || return 1
CREATE DATABASE IF NOT EXISTS quckchat CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'quckchat'@'%' IDENTIFIED BY 'quckchat';
CREATE USER IF NOT EXISTS 'quckchat'@'localhost' IDENTIFIED BY 'quckchat';
CREATE USER IF NOT EXISTS 'quckchat'@'127.0.0.1' IDENTIFIED BY 'quckchat';
GRANT ALL PRIVILEGES ON *.* TO 'quckchat'@'%' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO 'quckchat'@'localhost' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO 'quckchat'@'127.0.0.1' WITH GRANT OPTION;
-- Anonymous accounts would shadow quckchat@% for local connections.
DELETE FROM mysql.global_priv WHERE User = '';
FLUSH PRIVILEGES;
EOF
  wait_ready 30 mariadb_running check_mariadb
}

stop_mariadb() {
  local home
  home=$(existing_home mariadb)
  [[ -n $home ]] || return 0
  # TERM is mariadbd's clean shutdown; InnoDB may need a while to flush.
  kill_and_wait "$home/mariadb.pid" mariadbd 60
}
