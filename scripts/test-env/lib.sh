# shellcheck shell=bash disable=SC2034  # settings are used by the scripts that source this file
# Shared functions for the MATE test services (MariaDB, Redis, MinIO).
# Sourced by up.sh, down.sh and ctl.sh; not meant to be executed directly.
#
# Everything lives under $MATE_CACHE (default ~/.cache/mate):
#   tools/minio-<version>/minio   MinIO binary, built once per pinned version
#   run/mariadb/                  my.cnf, data/, socket, pidfile, log
#   run/redis/                    redis.conf, pidfile, log
#   run/minio/                    data/, pidfile, log
#   run/test-env.sh               export lines for the tests

# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
MATE_STEP=test-env

# ---- pinned versions --------------------------------------------------------
MINIO_MODULE="github.com/minio/minio"
MINIO_VERSION="v0.0.0-20260212201848-7aac2a2c5b7c"
# MariaDB and Redis come from the Debian 12 (bookworm) archive: MariaDB 10.11, Redis 7.0.
MARIADB_APT_PACKAGES=(mariadb-server mariadb-client)
REDIS_APT_PACKAGES=(redis-server redis-tools)

# ---- settings (overridable from the environment) ----------------------------
MATE_TEST_ENV_FILE="$MATE_RUN/test-env.sh"
MATE_TEST_ENV_TIMEOUT="${MATE_TEST_ENV_TIMEOUT:-90}"   # seconds to wait for each service

TEST_HOST=127.0.0.1
MARIADB_PORT="${MATE_TEST_MARIADB_PORT:-33306}"
REDIS_PORT="${MATE_TEST_REDIS_PORT:-36379}"
MINIO_PORT="${MATE_TEST_MINIO_PORT:-39000}"
MINIO_CONSOLE_PORT="${MATE_TEST_MINIO_CONSOLE_PORT:-39001}"

MARIADB_TEST_USER=mate_test
MARIADB_TEST_PASSWORD=mate_test
S3_ACCESS_KEY_DEFAULT=mate-test
S3_SECRET_KEY_DEFAULT=mate-test-secret
S3_REGION_DEFAULT=us-east-1

MARIADB_DIR="$MATE_RUN/mariadb"
MARIADB_DATADIR="$MARIADB_DIR/data"
MARIADB_CNF="$MARIADB_DIR/my.cnf"
MARIADB_INIT_SQL="$MARIADB_DIR/init.sql"
MARIADB_SOCKET="$MARIADB_DIR/mariadb.sock"
# Unix socket paths are limited to 107 bytes; fall back to TMPDIR for a long $HOME.
if ((${#MARIADB_SOCKET} > 100)); then MARIADB_SOCKET="${TMPDIR:-/tmp}/mate-test-mariadb-$(id -u).sock"; fi
MARIADB_PIDFILE="$MARIADB_DIR/mariadbd.pid"
MARIADB_LOG="$MARIADB_DIR/mariadbd.log"

REDIS_DIR="$MATE_RUN/redis"
REDIS_CONF="$REDIS_DIR/redis.conf"
REDIS_PIDFILE="$REDIS_DIR/redis.pid"
REDIS_LOG="$REDIS_DIR/redis.log"

MINIO_DIR="$MATE_RUN/minio"
MINIO_DATADIR="$MINIO_DIR/data"
MINIO_PIDFILE="$MINIO_DIR/minio.pid"
MINIO_LOG="$MINIO_DIR/minio.log"
MINIO_BIN_DIR="$MATE_TOOLS/minio-$MINIO_VERSION"
MINIO_BIN="$MINIO_BIN_DIR/minio"
MINIO_BUILD_LOG="$MATE_TOOLS/minio-$MINIO_VERSION.build.log"

# Default addresses, i.e. what up.sh starts itself.
MARIADB_URL_DEFAULT="mysql://$MARIADB_TEST_USER:$MARIADB_TEST_PASSWORD@$TEST_HOST:$MARIADB_PORT"
REDIS_URL_DEFAULT="redis://$TEST_HOST:$REDIS_PORT"
S3_ENDPOINT_DEFAULT="http://$TEST_HOST:$MINIO_PORT"

# mariadbd/mariadb-install-db live in /usr/sbin, which is not on every user's PATH.
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH="$PATH:/usr/sbin:/sbin" ;; esac

# ---- small helpers -----------------------------------------------------------
# die_with_log SERVICE LOGFILE MESSAGE
die_with_log() {
  MATE_STEP_LOG=$2
  mate_die "$1: $3"
}

# port_open HOST PORT: true when something accepts TCP connections there.
port_open() {
  # shellcheck disable=SC2016  # expanded by the inner bash
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null
}

# http_ok URL: true on a 2xx answer (curl when present, else bash /dev/tcp).
http_ok() {
  local url=$1
  if command -v curl >/dev/null 2>&1; then
    curl -fsS -o /dev/null --max-time 3 "$url" 2>/dev/null
    return
  fi
  local rest=${url#http://} hostport path host port status
  hostport=${rest%%/*}; path=/${rest#*/}
  host=${hostport%:*}; port=${hostport##*:}
  [[ $port == "$hostport" ]] && port=80
  # shellcheck disable=SC2016  # expanded by the inner bash
  status=$(timeout 3 bash -c '
    exec 3<>"/dev/tcp/$0/$1" || exit 1
    printf "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" "$2" "$0:$1" >&3
    IFS= read -r line <&3 && printf "%s" "$line"' "$host" "$port" "$path" 2>/dev/null) || return 1
  [[ $status =~ ^HTTP/[0-9.]+\ 2[0-9][0-9] ]]
}

# proc_running PID: alive and not a zombie (an exited daemon whose parent is
# an init that reaps slowly still answers kill -0).
proc_running() {
  local state
  kill -0 "$1" 2>/dev/null || return 1
  state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null) || return 1
  [[ -n $state && $state != Z && $state != X ]]
}

# pid_from_file PIDFILE COMM: prints the pid when the pidfile names a live
# process whose command name is COMM (protects against recycled pids).
pid_from_file() {
  local pidfile=$1 comm=$2 pid
  [[ -s $pidfile ]] || return 1
  pid=$(tr -dc '0-9' <"$pidfile")
  [[ -n $pid ]] || return 1
  proc_running "$pid" || return 1
  [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == "$comm" ]] || return 1
  printf '%s\n' "$pid"
}

# spawn_detached PIDFILE LOGFILE CMD...: start CMD in its own session so it
# outlives this script (and the caller's process group); its pid goes to
# PIDFILE. Stdio goes to LOGFILE; the lock fd 9 is not inherited.
spawn_detached() {
  local pidfile=$1 logfile=$2
  shift 2
  rm -f "$pidfile"
  # shellcheck disable=SC2016  # $$ / $@ are expanded by the inner bash
  setsid -w nohup bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" \
    </dev/null >>"$logfile" 2>&1 9>&- &
  SPAWN_WATCH_PID=$!
}

# wait_ready SERVICE LOGFILE ALIVE_FN READY_FN [TIMEOUT]
wait_ready() {
  local service=$1 logfile=$2 alive_fn=$3 ready_fn=$4 timeout=${5:-$MATE_TEST_ENV_TIMEOUT}
  local deadline=$((SECONDS + timeout))
  while :; do
    "$ready_fn" && return 0
    if [[ -n $alive_fn ]] && ! "$alive_fn"; then
      die_with_log "$service" "$logfile" "the process exited during start-up"
    fi
    if ((SECONDS >= deadline)); then
      die_with_log "$service" "$logfile" "not ready after ${timeout}s"
    fi
    sleep 0.2
  done
}

# stop_by_pidfile SERVICE PIDFILE COMM PORT LOGFILE: TERM the process, wait
# until it is gone and its port is closed (KILL after 30s).
stop_by_pidfile() {
  local service=$1 pidfile=$2 comm=$3 port=$4 logfile=$5 pid
  if ! pid=$(pid_from_file "$pidfile" "$comm"); then
    rm -f "$pidfile"
    if port_open "$TEST_HOST" "$port"; then
      mate_die "$service: port $port is open but not by a process from $pidfile; not stopping something this script did not start"
    fi
    mate_log "$service: not running"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 30)) killed=
  while proc_running "$pid" || port_open "$TEST_HOST" "$port"; do
    if ((SECONDS >= deadline)); then
      if [[ -z $killed ]] && proc_running "$pid"; then
        mate_log "$service: pid $pid ignored SIGTERM for 30s, sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        killed=1
        deadline=$((SECONDS + 10))
      else
        die_with_log "$service" "$logfile" "port $port still open after stopping pid $pid"
      fi
    fi
    sleep 0.1
  done
  rm -f "$pidfile"
  mate_log "$service: stopped (pid $pid)"
}

# ---- installing -----------------------------------------------------------------
mariadb_installed() { command -v mariadbd && command -v mariadb-install-db && command -v mariadb-admin && command -v mariadb; } >/dev/null 2>&1
redis_installed() { command -v redis-server && command -v redis-cli; } >/dev/null 2>&1

# Builds the pinned MinIO into $MINIO_BIN_DIR once; returns 1 when it was already there.
minio_ensure_built() {
  [[ -x $MINIO_BIN ]] && return 1
  local go tmp
  go=$(mate_find_go)
  mkdir -p "$MATE_TOOLS"
  tmp=$(mktemp -d "$MATE_TOOLS/.minio-build.XXXXXX")
  mate_log "minio: building $MINIO_MODULE@$MINIO_VERSION with $("$go" env GOVERSION) (several minutes on a cold Go cache; log: $MINIO_BUILD_LOG)"
  if ! GOBIN="$tmp" "$go" install "$MINIO_MODULE@$MINIO_VERSION" >"$MINIO_BUILD_LOG" 2>&1 9>&-; then
    rm -rf "$tmp"
    die_with_log minio "$MINIO_BUILD_LOG" "go install $MINIO_MODULE@$MINIO_VERSION failed (check GOPROXY/Go version; build log above)"
  fi
  mkdir -p "$MINIO_BIN_DIR"
  mv -f "$tmp/minio" "$MINIO_BIN"
  rm -rf "$tmp"
}

# ---- MariaDB --------------------------------------------------------------------
mariadb_write_config() {
  mkdir -p "$MARIADB_DIR"
  local user_line=""
  [[ $(id -u) -eq 0 ]] && user_line="user=root"
  cat >"$MARIADB_CNF" <<EOF
# Generated by scripts/test-env/lib.sh; rewritten on every start.
[mariadbd]
$user_line
datadir=$MARIADB_DATADIR
socket=$MARIADB_SOCKET
pid-file=$MARIADB_PIDFILE
log-error=$MARIADB_LOG
port=$MARIADB_PORT
bind-address=$TEST_HOST
skip-name-resolve
character-set-server=utf8mb4
collation-server=utf8mb4_unicode_ci
init-file=$MARIADB_INIT_SQL
max-connections=500
skip-log-bin
# test data only: trade durability for speed
innodb-buffer-pool-size=256M
innodb-flush-log-at-trx-commit=0
innodb-doublewrite=0
EOF
  # Run by mariadbd on every start: (re)creates the test admin account.
  # One statement per line (init-file requirement on older servers).
  local u=$MARIADB_TEST_USER p=$MARIADB_TEST_PASSWORD h
  : >"$MARIADB_INIT_SQL"
  for h in 127.0.0.1 localhost; do
    cat >>"$MARIADB_INIT_SQL" <<EOF
CREATE USER IF NOT EXISTS '$u'@'$h' IDENTIFIED BY '$p';
ALTER USER '$u'@'$h' IDENTIFIED BY '$p';
GRANT ALL PRIVILEGES ON *.* TO '$u'@'$h' WITH GRANT OPTION;
EOF
  done
}

mariadb_init_datadir() {
  [[ -d $MARIADB_DATADIR/mysql ]] && return 0
  local tmp="$MARIADB_DIR/data.init"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  mate_log "mariadb: initialising $MARIADB_DATADIR"
  if ! mariadb-install-db --defaults-file="$MARIADB_CNF" --datadir="$tmp" \
    --auth-root-authentication-method=socket --skip-test-db \
    >>"$MARIADB_LOG" 2>&1 9>&-; then
    die_with_log mariadb "$MARIADB_LOG" "mariadb-install-db failed"
  fi
  rm -rf "$MARIADB_DATADIR"
  mv "$tmp" "$MARIADB_DATADIR"
}

mariadb_pid() { pid_from_file "$MARIADB_PIDFILE" mariadbd; }
mariadb_alive() { proc_running "$SPAWN_WATCH_PID"; }
mariadb_ping() {
  timeout 5 mariadb-admin --no-defaults --protocol=tcp -h"$TEST_HOST" -P"$MARIADB_PORT" \
    --connect-timeout=2 -u"$MARIADB_TEST_USER" -p"$MARIADB_TEST_PASSWORD" ping >/dev/null 2>&1
}
mariadb_login_ok() {
  timeout 5 mariadb --no-defaults --protocol=tcp -h"$TEST_HOST" -P"$MARIADB_PORT" --connect-timeout=3 \
    -u"$MARIADB_TEST_USER" -p"$MARIADB_TEST_PASSWORD" -N -e 'SELECT 1' >/dev/null 2>&1
}

mariadb_start() {
  mariadb_installed || mate_die "mariadb: not installed; run scripts/test-env/up.sh"
  if port_open "$TEST_HOST" "$MARIADB_PORT"; then
    mariadb_login_ok && { mate_log "mariadb: already running on $TEST_HOST:$MARIADB_PORT"; return 0; }
    mate_die "mariadb: port $MARIADB_PORT is in use by something where $MARIADB_TEST_USER cannot log in"
  fi
  mariadb_write_config
  mariadb_init_datadir
  rm -f "$MARIADB_SOCKET"
  spawn_detached "$MARIADB_PIDFILE" "$MARIADB_LOG" mariadbd --defaults-file="$MARIADB_CNF"
  wait_ready mariadb "$MARIADB_LOG" mariadb_alive mariadb_ping
  # ping succeeds before init-file has run; wait for the account too.
  wait_ready mariadb "$MARIADB_LOG" mariadb_alive mariadb_login_ok 30
  mate_log "mariadb: started on $TEST_HOST:$MARIADB_PORT (pid $(mariadb_pid || echo ?), log $MARIADB_LOG)"
}

mariadb_stop() { stop_by_pidfile mariadb "$MARIADB_PIDFILE" mariadbd "$MARIADB_PORT" "$MARIADB_LOG"; }

# ---- Redis ------------------------------------------------------------------------
redis_write_config() {
  mkdir -p "$REDIS_DIR"
  cat >"$REDIS_CONF" <<EOF
# Generated by scripts/test-env/lib.sh; rewritten on every start.
bind $TEST_HOST
port $REDIS_PORT
protected-mode yes
daemonize yes
pidfile $REDIS_PIDFILE
logfile $REDIS_LOG
dir $REDIS_DIR
save ""
appendonly no
EOF
}

redis_alive() { [[ ! -s $REDIS_PIDFILE ]] || pid_from_file "$REDIS_PIDFILE" redis-server >/dev/null; }
redis_ping() { [[ "$(timeout 3 redis-cli -h "$TEST_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]; }

redis_start() {
  redis_installed || mate_die "redis: not installed; run scripts/test-env/up.sh"
  if port_open "$TEST_HOST" "$REDIS_PORT"; then
    redis_ping && { mate_log "redis: already running on $TEST_HOST:$REDIS_PORT"; return 0; }
    mate_die "redis: port $REDIS_PORT is in use by something that does not answer PING"
  fi
  redis_write_config
  rm -f "$REDIS_PIDFILE"
  # daemonize yes: redis forks and writes its own pidfile.
  if ! setsid redis-server "$REDIS_CONF" </dev/null >>"$REDIS_LOG" 2>&1 9>&-; then
    die_with_log redis "$REDIS_LOG" "redis-server failed to start"
  fi
  wait_ready redis "$REDIS_LOG" redis_alive redis_ping
  mate_log "redis: started on $TEST_HOST:$REDIS_PORT (pid $(pid_from_file "$REDIS_PIDFILE" redis-server || echo ?), log $REDIS_LOG)"
}

redis_stop() { stop_by_pidfile redis "$REDIS_PIDFILE" redis-server "$REDIS_PORT" "$REDIS_LOG"; }

# ---- MinIO ------------------------------------------------------------------------
minio_alive() { proc_running "$SPAWN_WATCH_PID"; }
minio_ready() { http_ok "http://$TEST_HOST:$MINIO_PORT/minio/health/ready"; }

minio_start() {
  [[ -x $MINIO_BIN ]] || mate_die "minio: $MINIO_BIN missing; run scripts/test-env/up.sh"
  if port_open "$TEST_HOST" "$MINIO_PORT"; then
    minio_ready && { mate_log "minio: already running on $TEST_HOST:$MINIO_PORT"; return 0; }
    mate_die "minio: port $MINIO_PORT is in use by something that does not answer /minio/health/ready"
  fi
  mkdir -p "$MINIO_DATADIR"
  spawn_detached "$MINIO_PIDFILE" "$MINIO_LOG" env \
    MINIO_ROOT_USER="${MATE_TEST_S3_ACCESS_KEY:-$S3_ACCESS_KEY_DEFAULT}" \
    MINIO_ROOT_PASSWORD="${MATE_TEST_S3_SECRET_KEY:-$S3_SECRET_KEY_DEFAULT}" \
    MINIO_UPDATE=off \
    "$MINIO_BIN" server \
    --address "$TEST_HOST:$MINIO_PORT" --console-address "$TEST_HOST:$MINIO_CONSOLE_PORT" \
    "$MINIO_DATADIR"
  wait_ready minio "$MINIO_LOG" minio_alive minio_ready
  mate_log "minio: started on $TEST_HOST:$MINIO_PORT, console $TEST_HOST:$MINIO_CONSOLE_PORT (pid $(pid_from_file "$MINIO_PIDFILE" minio || echo ?), log $MINIO_LOG)"
}

minio_stop() { stop_by_pidfile minio "$MINIO_PIDFILE" minio "$MINIO_PORT" "$MINIO_LOG"; }

# ---- locking ------------------------------------------------------------------------
# Serialises up/down/ctl on one machine (fd 9; never inherited by the services).
take_lock() {
  mkdir -p "$MATE_RUN"
  exec 9>"$MATE_RUN/.lock"
  if ! flock -w 900 9; then
    mate_die "another test-env script holds $MATE_RUN/.lock for more than 15 minutes"
  fi
}
