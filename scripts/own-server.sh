# shellcheck shell=bash
# Sourced by scripts/e2e.sh and scripts/schemathesis.sh: a `shop serve` of the caller's own on a free port,
# with its own PostgreSQL database, Redis prefix, MongoDB database and RabbitMQ names, all deleted again when
# the caller is done. The caller defines `say` and `die` first.
#
#   own_server_names PREFIX          picks RUN_ID (PREFIX_<time>_<pid>: scripts/clean-leftovers.py knows the
#                                    e2e_ prefix), DB, PORT and BASE_URL; creates the database; exports
#                                    DATABASE_URL, REDIS_PREFIX, MONGODB_DATABASE, AMQP_PREFIX, SHOP_HTTP_ADDR
#                                    and SHOP_CORS_ORIGINS
#   own_server_start BIN LOG SECONDS starts `BIN serve` (SERVER_PID), its output appended to LOG, and waits
#                                    at most SECONDS for /health/ready
#   own_server_remove KEEP           stops the server and, unless KEEP is 1, deletes every name it used

DB_HOST=127.0.0.1
SERVER_PID=""

own_server_names() {
  RUN_ID="$1_$(date +%s)_$$"
  DB="shop_$RUN_ID"
  PORT=$("${PYTHON:-python3}" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
  BASE_URL="http://127.0.0.1:$PORT"
  createdb -h "$DB_HOST" -U postgres "$DB"
  export DATABASE_URL="postgres://postgres@$DB_HOST:5432/$DB"
  export REDIS_PREFIX="shop:$RUN_ID:"
  export MONGODB_DATABASE="shop_$RUN_ID"
  export AMQP_PREFIX="$RUN_ID."
  export SHOP_HTTP_ADDR="127.0.0.1:$PORT"
  export SHOP_CORS_ORIGINS="$BASE_URL"
}

own_server_start() {
  local bin=$1 log=$2 seconds=$3
  say "starting shop serve on $BASE_URL (log: $log)"
  "$bin" serve >>"$log" 2>&1 &
  SERVER_PID=$!
  local deadline=$((SECONDS + seconds))
  until curl -fsS -o /dev/null "$BASE_URL/health/ready" 2>/dev/null; do
    kill -0 "$SERVER_PID" 2>/dev/null || die "shop serve exited during start-up (log: $log)"
    ((SECONDS < deadline)) || die "shop serve was not ready within ${seconds}s (log: $log)"
    sleep 0.3
  done
  say "server ready"
}

own_server_remove() {
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
  fi
  [[ -n ${DB:-} ]] || return 0
  if [[ ${1:-} == 1 ]]; then
    say "kept database $DB, Redis prefix $REDIS_PREFIX, MongoDB database $MONGODB_DATABASE, AMQP prefix $AMQP_PREFIX"
    return 0
  fi
  dropdb -h "$DB_HOST" -U postgres --if-exists --force "$DB" 2>/dev/null ||
    dropdb -h "$DB_HOST" -U postgres --if-exists "$DB" || true
  redis-cli -h 127.0.0.1 --scan --pattern "$REDIS_PREFIX*" 2>/dev/null |
    xargs -r -n 500 redis-cli -h 127.0.0.1 del >/dev/null 2>&1 || true
  "${PYTHON:-python3}" - "$MONGODB_URL" "$MONGODB_DATABASE" <<'PY' 2>/dev/null || true
import sys
try:
    import pymongo
except ImportError:
    sys.exit(0)
pymongo.MongoClient(sys.argv[1], serverSelectionTimeoutMS=3000).drop_database(sys.argv[2])
PY
  # The saga's queues (the exchange is left: it holds nothing). rabbitmqctl needs the broker's own machine.
  if command -v rabbitmqctl >/dev/null 2>&1; then
    timeout 30 rabbitmqctl -q list_queues name 2>/dev/null | grep "^$AMQP_PREFIX" |
      while read -r queue; do timeout 15 rabbitmqctl -q delete_queue "$queue" </dev/null >/dev/null 2>&1 || true; done || true
  fi
}
