#!/usr/bin/env bash
# Read throughput of the query API next to a trivial handler of the same server, in one run (issue 3).
#
#   bench/reads.sh            64 connections, 20 s per endpoint (BENCH_CONNECTIONS, BENCH_SECONDS)
#
# Starts a release `shop serve` on its own database, Redis prefix and MongoDB database, seeds a catalog, fills
# one customer's cart, then drives each endpoint with wrk (Debian's package, installed if missing) and prints
# requests/s, p99 and the ratio to `GET /health/live`, the trivial handler.
set -euo pipefail

# shellcheck source=bench/server.sh
source "$(dirname "${BASH_SOURCE[0]}")/server.sh"
CONNECTIONS=${BENCH_CONNECTIONS:-64}
SECONDS_PER_RUN=${BENCH_SECONDS:-20}
start_shop --products 500 --customers 10 --orders 50

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
BASELINE=$(awk 'NR==1 {print $(NF-1)}' <<<"$RESULTS")
printf '%-28s %12s %10s %8s\n' endpoint "requests/s" p99 ratio
while read -r line; do
  name=${line% * *}; rest=${line##"$name" }; rps=${rest% *}; p99=${rest#* }
  printf '%-28s %12s %10s %8.2f\n' "$name" "$rps" "$p99" "$(awk -v a="$rps" -v b="$BASELINE" 'BEGIN {print a / b}')"
done <<<"$RESULTS"
echo "goals: /products/{id} and /cart >= 0.50 of the trivial handler, p99 < 10ms"
echo "near cache (docs/adr/0010): $(curl -fs "$BASE/metrics" | awk '/^shop_near_cache_reads_total/ {sub(/.*outcome="/, ""); sub(/"}/, ""); printf "%s ", $0}')"
