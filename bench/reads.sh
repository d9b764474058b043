#!/usr/bin/env bash
# Read throughput of the query API next to a trivial handler of the same server, in one run (issue 3).
#
#   bench/reads.sh            64 connections, 20 s per endpoint (BENCH_CONNECTIONS, BENCH_SECONDS)
#
# Starts a release `shop serve` on its own database, Redis prefix and MongoDB database, seeds a catalog, fills
# one customer's cart, then drives each endpoint with wrk (Debian's package, installed if missing) and prints
# requests/s, p99 and the ratio to `GET /health/live`, the trivial handler.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=scripts/env.sh
source scripts/env.sh
scripts/services.sh >/dev/null

CONNECTIONS=${BENCH_CONNECTIONS:-64}
SECONDS_PER_RUN=${BENCH_SECONDS:-20}
PORT=${BENCH_PORT:-18080}
BASE="http://127.0.0.1:$PORT"

if ! command -v wrk >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends wrk >/dev/null ||
    { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends wrk >/dev/null; }
fi
cargo build --release -p shop >/dev/null 2>&1 || cargo build --release -p shop
SHOP="${CARGO_TARGET_DIR:-$ROOT/target}/release/shop"

RUN="bench_reads_$(date +%s)"
psql "$DATABASE_URL" -qc "CREATE DATABASE $RUN" >/dev/null
export DATABASE_URL="${DATABASE_URL%/*}/$RUN" REDIS_PREFIX="$RUN:" MONGODB_DATABASE="$RUN"
export SHOP_HTTP_ADDR="127.0.0.1:$PORT" RUST_LOG=warn SHOP_REGISTRATIONS_PER_MINUTE=1000

cleanup() {
  [ -n "${SERVER:-}" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
  psql "${DATABASE_URL%/*}/postgres" -qc "DROP DATABASE IF EXISTS $RUN WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

"$SHOP" migrate >/dev/null
"$SHOP" seed --products 500 --customers 10 --orders 50 >/dev/null
"$SHOP" serve >/dev/null 2>&1 &
SERVER=$!
for _ in $(seq 100); do curl -fs "$BASE/health/live" >/dev/null && break; sleep 0.1; done

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
curl -fs -XPOST "$BASE/api/v1/auth/register" -H 'content-type: application/json' \
  -d '{"email":"bench@example.com","password":"password123","name":"Bench"}' >/dev/null
TOKEN=$(curl -fs -XPOST "$BASE/api/v1/auth/login" -H 'content-type: application/json' \
  -d '{"email":"bench@example.com","password":"password123"}' | json "['access_token']")
HEAD=$(psql "$DATABASE_URL" -Atc "SELECT transaction_id::text || '.' || position FROM events ORDER BY transaction_id DESC, position DESC LIMIT 1")
IDS=$(curl -fs -H "x-min-position: $HEAD" "$BASE/api/v1/products?limit=3&in_stock=true" | json "['items']" | python3 -c "import ast,sys; print(' '.join(p['id'] for p in ast.literal_eval(sys.stdin.read())))")
for id in $IDS; do
  POSITION=$(curl -fs -XPOST "$BASE/api/v1/cart/items" -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \
    -d "{\"product_id\":\"$id\",\"quantity\":1}" | json "['position']")
done
PRODUCT=${IDS%% *}
curl -fs -H "authorization: Bearer $TOKEN" -H "x-min-position: $POSITION" "$BASE/api/v1/cart" >/dev/null

run() { # name, path, extra wrk args...
  local name=$1 path=$2
  shift 2
  local out
  out=$(wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency "$@" "$BASE$path")
  local rps p99
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  if grep -q "Non-2xx" <<<"$out"; then echo "warning: $name had non-2xx answers" >&2; fi
  printf '%s %s %s\n' "$name" "$rps" "$p99"
}

echo "shop read benchmark: $CONNECTIONS connections, ${SECONDS_PER_RUN}s per endpoint, $(nproc) cores"
RESULTS=$(
  run "GET /health/live (trivial)" /health/live
  run "GET /products/{id}" "/api/v1/products/$PRODUCT"
  run "GET /cart" /api/v1/cart -H "authorization: Bearer $TOKEN"
  run "GET /products?q=blue" "/api/v1/products?q=blue"
)
BASELINE=$(head -1 <<<"$RESULTS" | awk '{print $NF-0}')
BASELINE=$(awk 'NR==1 {print $(NF-1)}' <<<"$RESULTS")
printf '%-28s %12s %10s %8s\n' endpoint "requests/s" p99 ratio
while read -r line; do
  name=${line% * *}; rest=${line##"$name" }; rps=${rest% *}; p99=${rest#* }
  printf '%-28s %12s %10s %8.2f\n' "$name" "$rps" "$p99" "$(awk -v a="$rps" -v b="$BASELINE" 'BEGIN {print a / b}')"
done <<<"$RESULTS"
echo "goals: /products/{id} and /cart >= 0.50 of the trivial handler, p99 < 10ms"
