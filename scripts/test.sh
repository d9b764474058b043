#!/usr/bin/env bash
# Runs every test: starts the local services, deletes what earlier runs left in them
# (scripts/clean-leftovers.py), checks the docs' links and paths (scripts/check-docs.py), builds the workspace
# once, then runs the tests.
#
#   scripts/test.sh [ARGS...]   ARGS go to the test runner: cargo nextest run (when cargo-nextest is
#                               installed) or cargo test, e.g. `scripts/test.sh -p domain`.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=scripts/env.sh
source scripts/env.sh

scripts/services.sh

# Each test run works under its own names in RabbitMQ, MongoDB and Redis; delete those of earlier runs.
"${PYTHON:-python3}" -c 'import pika' 2>/dev/null ||
  "${PYTHON:-python3}" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore pika==1.3.2
"${PYTHON:-python3}" scripts/clean-leftovers.py
for pattern in 'test:*' 'bench:*'; do
  redis-cli -h 127.0.0.1 --scan --pattern "$pattern" | xargs -r -n 500 redis-cli -h 127.0.0.1 del >/dev/null
done

# Each integration test makes its own database; drop those left by earlier runs.
psql "$DATABASE_URL" -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'shop_test_%'" |
  while read -r db; do psql "$DATABASE_URL" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null; done

# The docs name only files that exist: every relative link and every path in backticks.
echo "test: scripts/check-docs.py"
"${PYTHON:-python3}" scripts/check-docs.py

echo "test: cargo build --workspace --all-targets --locked"
cargo build --workspace --all-targets --locked

# The tests in shop/tests/failures.rs and shop/tests/chaos.rs stop RabbitMQ and kill processes: they run
# alone, after the rest. Every step selects the whole workspace, as the build did: a narrower selection
# unifies features differently and rebuilds the workspace's crates.
KILLING='binary(failures) | binary(chaos)'
if cargo nextest --version >/dev/null 2>&1; then
  echo "test: cargo nextest run --workspace --locked -E 'not ($KILLING)'${*:+ $*}"
  cargo nextest run --workspace --locked -E "not ($KILLING)" "$@"
  echo "test: cargo nextest run --workspace --locked -E '$KILLING' -j 1"
  cargo nextest run --workspace --locked -E "$KILLING" -j 1
else
  echo "test: cargo test --workspace --locked${*:+ $*} (without the process-killing tests)"
  cargo test --workspace --locked --exclude shop "$@"
  cargo test --workspace --locked --exclude domain --exclude eventstore --exclude projectors --exclude saga \
    --exclude command-api --exclude query-api --exclude platform --lib --test api "$@"
  cargo test --workspace --locked --exclude domain --exclude eventstore --exclude projectors --exclude saga \
    --exclude command-api --exclude query-api --exclude platform --test failures --test chaos -- --test-threads=1
fi

# The storefront: type check and component tests, then the end-to-end tests in headless Chromium against a
# real `shop serve` (scripts/e2e.sh starts and stops it on its own database, Redis prefix and queues).
echo "test: frontend typecheck and component tests"
(cd frontend && npm ci --no-audit --no-fund && npm run typecheck && npm test)
echo "test: scripts/e2e.sh"
mkdir -p .data
E2E_SKIP_INSTALL=1 E2E_METRICS=.data/e2e-metrics.prom scripts/e2e.sh

# The contract fuzzed: schemathesis against the OpenAPI document of a running server, as a customer and as an
# administrator (no 5xx; statuses, content types and bodies as documented).
echo "test: scripts/schemathesis.sh"
scripts/schemathesis.sh

# What cannot run here (containers, compose, Kubernetes, Prometheus, Grafana) is validated instead.
echo "test: scripts/validate-deploy.sh --metrics .data/e2e-metrics.prom"
scripts/validate-deploy.sh --metrics .data/e2e-metrics.prom
