#!/usr/bin/env bash
# Runs the shop: starts the local services, builds the release binary, migrates the database, then serves
# every role on one port (SHOP_HTTP_ADDR, default 127.0.0.1:8080).
#
#   scripts/run.sh [ARGS...]   ARGS go to `shop serve`, e.g. `scripts/run.sh --role query-api`.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=scripts/env.sh
source scripts/env.sh

scripts/services.sh

echo "run: building the storefront (frontend/dist, served by shop at /)"
(cd frontend && npm ci --no-audit --no-fund && npm run build)

echo "run: cargo build --release -p shop"
cargo build --release -p shop

SHOP="${CARGO_TARGET_DIR:-$ROOT/target}/release/shop"
echo "run: shop migrate"
"$SHOP" migrate
echo "run: shop seed --if-empty (a small demo catalog on a fresh store)"
"$SHOP" seed --if-empty --products 40 --customers 5 --orders 10
echo "run: shop serve${*:+ $*}"
exec "$SHOP" serve "$@"
