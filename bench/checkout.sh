#!/usr/bin/env bash
# Checkout throughput and latency (issue 4): customers check out at a steady rate (BENCH_RATE orders/s,
# default 50) for BENCH_SECONDS (default 60) against a release `shop serve` (all roles); for each order the
# time from the checkout request to `confirmed` being visible in GET /orders/{id} is measured by polling.
# Prints orders/s sustained, p50 and p99 latency, and how many orders were not confirmed.
set -euo pipefail
# shellcheck source=bench/server.sh
source "$(dirname "${BASH_SOURCE[0]}")/server.sh"
start_shop --products 200 --customers 1 --orders 0
# An administrator restocks every product, so that no order is cancelled for want of stock.
"$SHOP" user create --email bench-admin@example.com --password password123 --name Bench --admin >/dev/null
python3 bench/checkout.py "$BASE" "${BENCH_RATE:-50}" "${BENCH_SECONDS:-60}"
