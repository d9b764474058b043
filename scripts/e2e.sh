#!/usr/bin/env bash
# End-to-end tests of the storefront and back office: builds frontend/, starts a real `shop serve` on a free
# port with its own fresh PostgreSQL database, Redis prefix, MongoDB database and RabbitMQ names (AMQP_PREFIX),
# creates an administrator, and drives Debian's Chromium (headless, through playwright-core) against it.
# Screenshots of each test's last page go to frontend/e2e/screenshots/.
#
#   scripts/e2e.sh            everything: chromium (apt, if missing), npm ci, build, services, server, tests
#
# Environment: E2E_SKIP_INSTALL=1 skips `npm ci` (node_modules already current); SHOP_BIN (default
# target/debug/shop, built with `cargo build -p shop` only when missing); E2E_KEEP_DB=1 keeps the database;
# E2E_SAGA=1 requires orders to confirm or cancel (as SAGA_LANDED in frontend/e2e/flags.ts does);
# E2E_METRICS=FILE saves the server's /metrics after the tests (a live scrape with every business counter
# moved, which scripts/validate-deploy.sh --metrics FILE checks with promtool).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=scripts/env.sh
source scripts/env.sh

say() { printf 'e2e: %s\n' "$*"; }
die() { printf 'e2e: ERROR: %s\n' "$*" >&2; exit 1; }

# --- browser --------------------------------------------------------------------------------------------
if [[ ! -x /usr/bin/chromium ]]; then
  say "installing Debian's chromium"
  if [[ $(id -u) -eq 0 ]]; then SUDO=(); else SUDO=(sudo); fi
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y chromium >/dev/null ||
    { "${SUDO[@]}" apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y chromium >/dev/null; } ||
    die "could not install chromium"
fi

# --- frontend build -------------------------------------------------------------------------------------
if [[ ${E2E_SKIP_INSTALL:-} != 1 ]]; then
  say "npm ci (frontend)"
  (cd frontend && npm ci --no-audit --no-fund --loglevel=error)
fi
say "npm run build (frontend)"
(cd frontend && npm run build --silent)

# --- services and server --------------------------------------------------------------------------------
scripts/services.sh

SHOP_BIN=${SHOP_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/shop}
if [[ ! -x $SHOP_BIN ]]; then
  say "$SHOP_BIN is missing: cargo build -p shop"
  cargo build -p shop
fi

RUN_ID="e2e_$(date +%s)_$$"
DB="shop_$RUN_ID"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
BASE_URL="http://127.0.0.1:$PORT"
LOG_DIR="$ROOT/.data/logs"
LOG="$LOG_DIR/$RUN_ID-serve.log"
mkdir -p "$LOG_DIR"

DB_HOST=127.0.0.1
createdb -h "$DB_HOST" -U postgres "$DB"
export DATABASE_URL="postgres://postgres@$DB_HOST:5432/$DB"
export REDIS_PREFIX="shop:$RUN_ID:"
export MONGODB_DATABASE="shop_$RUN_ID"
export AMQP_PREFIX="$RUN_ID."
export SHOP_HTTP_ADDR="127.0.0.1:$PORT"
export SHOP_CORS_ORIGINS="$BASE_URL"
export SHOP_FRONTEND_DIR="$ROOT/frontend/dist"
# Every test registers its own customer from one address; the default limit would trip a longer suite.
export SHOP_REGISTRATIONS_PER_MINUTE=${SHOP_REGISTRATIONS_PER_MINUTE:-1000}

SERVER_PID=""
cleanup() {
  local status=$?
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ ${E2E_KEEP_DB:-} != 1 ]]; then
    dropdb -h "$DB_HOST" -U postgres --if-exists "$DB" || true
    redis-cli -h 127.0.0.1 --scan --pattern "$REDIS_PREFIX*" 2>/dev/null |
      xargs -r -n 500 redis-cli -h 127.0.0.1 del >/dev/null 2>&1 || true
    python3 - "$MONGODB_URL" "$MONGODB_DATABASE" <<'PY' 2>/dev/null || true
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
  else
    say "kept database $DB, Redis prefix $REDIS_PREFIX, MongoDB database $MONGODB_DATABASE, AMQP prefix $AMQP_PREFIX"
  fi
  if ((status != 0)); then
    say "failed; the server log is $LOG"
    tail -n 30 "$LOG" 2>/dev/null | sed 's/^/  | /' >&2 || true
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ADMIN_EMAIL="admin-$RUN_ID@example.com"
ADMIN_PASSWORD="e2e-admin-$RANDOM$RANDOM"
say "creating administrator $ADMIN_EMAIL in $DB"
"$SHOP_BIN" user create --email "$ADMIN_EMAIL" --password "$ADMIN_PASSWORD" --name "E2E Admin" --admin >>"$LOG" 2>&1 ||
  die "shop user create failed (log: $LOG)"

say "starting shop serve on $BASE_URL (log: $LOG)"
"$SHOP_BIN" serve >>"$LOG" 2>&1 &
SERVER_PID=$!
deadline=$((SECONDS + 60))
until curl -fsS -o /dev/null "$BASE_URL/health/ready" 2>/dev/null; do
  kill -0 "$SERVER_PID" 2>/dev/null || die "shop serve exited during start-up"
  ((SECONDS < deadline)) || die "shop serve was not ready within 60s"
  sleep 0.3
done
curl -fsS -o /dev/null "$BASE_URL/" || die "shop serve does not serve the storefront at / (SHOP_FRONTEND_DIR=$SHOP_FRONTEND_DIR)"
say "server ready"

# --- tests ----------------------------------------------------------------------------------------------
cd frontend
E2E_BASE_URL="$BASE_URL" E2E_ADMIN_EMAIL="$ADMIN_EMAIL" E2E_ADMIN_PASSWORD="$ADMIN_PASSWORD" npm run e2e --silent
cd "$ROOT"

if [[ -n ${E2E_METRICS:-} ]]; then
  curl -fsS "$BASE_URL/metrics" >"$E2E_METRICS" || die "could not scrape $BASE_URL/metrics"
  say "saved a scrape of /metrics to $E2E_METRICS ($(grep -c '^shop_' "$E2E_METRICS") shop_ samples)"
fi
