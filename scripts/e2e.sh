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

# shellcheck source=scripts/own-server.sh
source scripts/own-server.sh
own_server_names e2e
LOG_DIR="$ROOT/.data/logs"
LOG="$LOG_DIR/$RUN_ID-serve.log"
mkdir -p "$LOG_DIR"
export SHOP_FRONTEND_DIR="$ROOT/frontend/dist"
# Every test registers its own customer from one address; the default limit would trip a longer suite.
export SHOP_REGISTRATIONS_PER_MINUTE=${SHOP_REGISTRATIONS_PER_MINUTE:-1000}

cleanup() {
  local status=$?
  own_server_remove "${E2E_KEEP_DB:-}"
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

own_server_start "$SHOP_BIN" "$LOG" 60
curl -fsS -o /dev/null "$BASE_URL/" || die "shop serve does not serve the storefront at / (SHOP_FRONTEND_DIR=$SHOP_FRONTEND_DIR)"

# --- tests ----------------------------------------------------------------------------------------------
cd frontend
E2E_BASE_URL="$BASE_URL" E2E_ADMIN_EMAIL="$ADMIN_EMAIL" E2E_ADMIN_PASSWORD="$ADMIN_PASSWORD" npm run e2e --silent
cd "$ROOT"

if [[ -n ${E2E_METRICS:-} ]]; then
  curl -fsS "$BASE_URL/metrics" >"$E2E_METRICS" || die "could not scrape $BASE_URL/metrics"
  say "saved a scrape of /metrics to $E2E_METRICS ($(grep -c '^shop_' "$E2E_METRICS") shop_ samples)"
fi
