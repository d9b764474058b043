# shellcheck shell=bash
# Sourced by scripts/test.sh and scripts/run.sh: where the local services are, unless the environment says
# otherwise. A variable that is already set (even to something else) is kept as it is.
: "${DATABASE_URL:=postgres://postgres@127.0.0.1:5432/postgres}"
: "${REDIS_URL:=redis://127.0.0.1:6379}"
: "${AMQP_URL:=amqp://guest:guest@127.0.0.1:5672/%2f}"
: "${MONGODB_URL:=mongodb://127.0.0.1:27017/?directConnection=true}"
: "${SMTP_URL:=smtp://127.0.0.1:2525}"
export DATABASE_URL REDIS_URL AMQP_URL MONGODB_URL SMTP_URL
