# shellcheck shell=bash
# Sourced by the benchmarks: starts a release `shop serve` on its own database, Redis prefix, MongoDB
# database and RabbitMQ names, and removes them all on exit. Sets BASE (the server's URL) and SHOP (the binary);
# installs wrk if missing.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=scripts/env.sh
source scripts/env.sh
scripts/services.sh >/dev/null

# The load generator: Debian's wrk, installed if missing.
if ! command -v wrk >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends wrk >/dev/null ||
    { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends wrk >/dev/null; }
fi

PORT=${BENCH_PORT:-18080}
BASE="http://127.0.0.1:$PORT"
cargo build --release -p shop >/dev/null 2>&1 || cargo build --release -p shop
SHOP="${CARGO_TARGET_DIR:-$ROOT/target}/release/shop"

RUN="bench_$(date +%s)"
ADMIN_DATABASE_URL=$DATABASE_URL
psql "$ADMIN_DATABASE_URL" -qc "CREATE DATABASE $RUN" >/dev/null
export DATABASE_URL="${DATABASE_URL%/*}/$RUN" REDIS_PREFIX="$RUN:" MONGODB_DATABASE="$RUN" AMQP_PREFIX="$RUN."
export SHOP_HTTP_ADDR="127.0.0.1:$PORT" RUST_LOG=warn SHOP_REGISTRATIONS_PER_MINUTE=100000

cleanup() {
  if [ -n "${SERVER:-}" ]; then kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null; fi
  psql "$ADMIN_DATABASE_URL" -qc "DROP DATABASE IF EXISTS $RUN WITH (FORCE)" >/dev/null 2>&1 || true
  for queue in saga saga.retry saga.parked notifier notifier.retry notifier.parked; do
    rabbitmqctl delete_queue "${RUN}.shop.$queue" >/dev/null 2>&1 || true
  done
}
trap cleanup EXIT

start_shop() {
  "$SHOP" migrate >/dev/null
  "$SHOP" seed "$@" >/dev/null
  "$SHOP" serve >/dev/null 2>&1 &
  SERVER=$!
  for _ in $(seq 200); do curl -fs "$BASE/health/live" >/dev/null && return; sleep 0.1; done
  echo "shop serve did not start" >&2
  return 1
}
