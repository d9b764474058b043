#!/usr/bin/env bash
# A login flood against the password-hash cap (issue 13), next to the rest of the API in the same run.
#
#   bench/login.sh     200 connections of wrong logins for 20 s (BENCH_CONNECTIONS, BENCH_SECONDS)
#
# Starts a release `shop serve` that trusts 127.0.0.1 as its proxy (SHOP_TRUSTED_PROXIES), so each wrong login
# comes from its own forwarded client address and for its own email: no rate limit applies, and every attempt
# reaches the password check, where at most SHOP_PASSWORD_HASHES_AT_ONCE hashes run and the rest are turned
# away at once (429 busy). Meanwhile a second client reads one product (16 connections). Printed: the
# product read's requests/s and p99 without and with the flood, the trivial handler's, the login answers by
# status, and the server's largest resident memory during the flood (read from /proc every 100 ms, which
# costs the server nothing).
set -euo pipefail

export SHOP_TRUSTED_PROXIES=127.0.0.1/32
# shellcheck source=bench/server.sh
source "$(dirname "${BASH_SOURCE[0]}")/server.sh"
CONNECTIONS=${BENCH_CONNECTIONS:-200}
SECONDS_PER_RUN=${BENCH_SECONDS:-20}
start_shop --products 500 --customers 10 --orders 50
for _ in $(seq 100); do [ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/health/ready")" = 200 ] && break; sleep 0.1; done

PRODUCT=$(curl -fs "$BASE/api/v1/products?limit=1" | python3 -c "import json,sys; print(json.load(sys.stdin)['items'][0]['id'])")
READ="$BASE/api/v1/products/$PRODUCT"

read_run() { # seconds
  local out
  out=$(wrk -t1 -c16 -d"$1s" --latency "$READ")
  printf '%s|%s' "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" "$(awk '$1 == "99%" {print $2}' <<<"$out")"
}

TRIVIAL=$(wrk -t2 -c64 -d10s --latency "$BASE/health/live")
echo "login flood benchmark: $CONNECTIONS connections of wrong logins for ${SECONDS_PER_RUN}s, $(nproc) cores"
echo "trivial handler GET /health/live (64 connections): $(awk '/Requests\/sec/ {print $2}' <<<"$TRIVIAL") requests/s, p99 $(awk '$1 == "99%" {print $2}' <<<"$TRIVIAL")"
QUIET=$(read_run 10)
echo "product read, no flood (16 connections): ${QUIET%|*} requests/s, p99 ${QUIET#*|}"
RSS_BEFORE=$(awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$SERVER/status")

FLOOD_OUT=$(mktemp)
wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency -s bench/login-flood.lua "$BASE/api/v1/auth/login" >"$FLOOD_OUT" &
FLOOD=$!
PEAK_FILE=$(mktemp)
(
  peak=0
  while kill -0 "$FLOOD" 2>/dev/null; do
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$SERVER/status")
    [ "$rss" -gt "$peak" ] && peak=$rss && echo "$peak" >"$PEAK_FILE"
    sleep 0.1
  done
) &
SAMPLER=$!
sleep 2
LOUD=$(read_run $((SECONDS_PER_RUN - 5)))
wait "$FLOOD"
wait "$SAMPLER"
echo "product read, during the flood (16 connections): ${LOUD%|*} requests/s, p99 ${LOUD#*|}"
echo "login requests/s: $(awk '/Requests\/sec/ {print $2}' "$FLOOD_OUT"), p99 $(awk '$1 == "99%" {print $2}' "$FLOOD_OUT")"
grep '^login answers' "$FLOOD_OUT" | sort
echo "resident memory: ${RSS_BEFORE} MB before, at most $(awk '{printf "%.0f", $1 / 1024}' "$PEAK_FILE") MB during the flood"
echo "goals: resident memory < 300 MB; the product read's p99 < 100 ms during the flood"
rm -f "$FLOOD_OUT" "$PEAK_FILE"
