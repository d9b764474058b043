#!/usr/bin/env bash
# Runs every test: starts the local services, builds the workspace once, then runs the tests.
#
#   scripts/test.sh [ARGS...]   ARGS go to the test runner: cargo nextest run (when cargo-nextest is
#                               installed) or cargo test, e.g. `scripts/test.sh -p domain`.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=scripts/env.sh
source scripts/env.sh

scripts/services.sh

# Each integration test makes its own database; drop those left by earlier runs.
psql "$DATABASE_URL" -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'shop_test_%'" |
  while read -r db; do psql "$DATABASE_URL" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null; done

echo "test: cargo build --workspace --all-targets --locked"
cargo build --workspace --all-targets --locked

# The tests in shop/tests/failures.rs stop RabbitMQ and kill processes: they run alone, after the rest.
if cargo nextest --version >/dev/null 2>&1; then
  echo "test: cargo nextest run --workspace --locked -E 'not binary(failures)'${*:+ $*}"
  cargo nextest run --workspace --locked -E 'not binary(failures)' "$@"
  echo "test: cargo nextest run -p shop --locked -E 'binary(failures)' -j 1"
  cargo nextest run -p shop --locked -E 'binary(failures)' -j 1
else
  echo "test: cargo test --workspace --locked --exclude shop${*:+ $*}"
  cargo test --workspace --locked --exclude shop "$@"
  cargo test -p shop --locked --test api "$@"
  cargo test -p shop --locked --test failures -- --test-threads=1
fi

# --- frontend tests (planned) ---------------------------------------------------------------------------
# When frontend/ lands, its install, type check and tests go here, failing the run like the steps above.
# --------------------------------------------------------------------------------------------------------
