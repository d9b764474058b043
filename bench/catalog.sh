#!/usr/bin/env bash
# Catalog listing and search at a realistic size (issue 12), next to the trivial handler of the same server,
# in one run.
#
#   bench/catalog.sh     BENCH_PRODUCTS (default 10000) products seeded with orders, so their stock moved;
#                        64 connections, 15 s per endpoint (BENCH_CONNECTIONS, BENCH_SECONDS)
#
# Seeds the store through the command bus (`shop seed`), then starts a release `shop serve --role query-api`,
# which builds its catalog index from the feed before `/health/ready` answers 200, and prints the time from
# start to ready and the process's resident memory then. Whole answers are cached per index generation
# (docs/adr/0013), so every endpoint is measured twice, each time next to `GET /health/live` of the same
# server: with the cache (the same request again and again) and on a server started with
# SHOP_CATALOG_ANSWER_CACHE=false (every request searched and counted).
set -euo pipefail

# shellcheck source=bench/server.sh
source "$(dirname "${BASH_SOURCE[0]}")/server.sh"
CONNECTIONS=${BENCH_CONNECTIONS:-64}
SECONDS_PER_RUN=${BENCH_SECONDS:-15}
PRODUCTS=${BENCH_PRODUCTS:-10000}

"$SHOP" migrate >/dev/null
echo "seeding $PRODUCTS products with orders..." >&2
SEED_STARTED=$(date +%s)
"$SHOP" seed --products "$PRODUCTS" --customers 100 --orders $((PRODUCTS / 5)) >/dev/null
echo "seeded in $(($(date +%s) - SEED_STARTED)) s" >&2
EVENTS=$(psql "$DATABASE_URL" -Atc "SELECT count(*) FROM events")

LOG=$(mktemp)
serve() { # cache: true or false
  SHOP_CATALOG_ANSWER_CACHE=$1 RUST_LOG=warn,projectors::search=info LOG_FORMAT=json \
    "$SHOP" serve --role query-api >"$LOG" 2>&1 &
  SERVER=$!
  local started
  started=$(date +%s.%N)
  for _ in $(seq 6000); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/health/ready")" = 200 ] && break
    sleep 0.05
  done
  READY=$(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN {printf "%.2f", e - s}')
  RSS_MB=$(awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$SERVER/status")
  # The build on its own, as the index logs it.
  BUILD_S=$(grep '"catalog index built"' "$LOG" | tail -1 | sed -E 's/.*"seconds":([0-9.e-]+).*/\1/')
}

stop() {
  kill "$SERVER" && wait "$SERVER" 2>/dev/null || true
  SERVER=
}

run() { # name, path
  local out rps p99
  out=$(wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency "$BASE$2")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  if grep -q "Non-2xx" <<<"$out"; then echo "warning: $1 had non-2xx answers" >&2; fi
  printf '%s|%s|%s\n' "$1" "$rps" "$p99"
}

P=/api/v1/products
echo "catalog benchmark: $PRODUCTS products, $EVENTS events, $CONNECTIONS connections, ${SECONDS_PER_RUN}s each, $(nproc) cores"
for cache in true false; do
  serve "$cache"
  echo
  echo "answer cache $cache: start to ready (index built from the feed) ${READY}s, resident memory ${RSS_MB} MB"
  echo "  build rate, process start included: $(awk -v e="$EVENTS" -v s="$READY" 'BEGIN {printf "%.0f", e / s}') events/s of history"
  echo "  the build alone: ${BUILD_S}s, $(awk -v e="$EVENTS" -v s="$BUILD_S" 'BEGIN {printf "%.0f", e / s}') events/s of history"
  RESULTS=$(
    run "GET /health/live (trivial)" /health/live
    run "listing, page 1" "$P?page=1&limit=20"
    run "listing, page 50" "$P?page=50&limit=20"
    run "q, one word" "$P?q=blue"
    run "q, two words, the last a prefix" "$P?q=blue%20mu"
    run "q, one typo" "$P?q=bluee%20mug"
    run "category + price range + sort" "$P?category=Kitchen&min_price=500&max_price=5000&sort=price_asc"
  )
  stop
  BASELINE=$(awk -F'|' 'NR==1 {print $2}' <<<"$RESULTS")
  printf '%-34s %12s %10s %8s\n' endpoint "requests/s" p99 ratio
  while IFS='|' read -r name rps p99; do
    printf '%-34s %12s %10s %8.2f\n' "$name" "$rps" "$p99" "$(awk -v a="$rps" -v b="$BASELINE" 'BEGIN {print a / b}')"
  done <<<"$RESULTS"
done
echo
echo "goals at 10k products: each >= 0.3 of the trivial handler, p99 < 15 ms; at 100k: >= 0.1, p99 < 50 ms"
rm -f "$LOG"
