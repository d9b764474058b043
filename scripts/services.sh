#!/usr/bin/env bash
# Makes sure the local services the shop needs are up, starting only what is down, and waits until each answers.
#
#   scripts/services.sh [up]   start what is down, wait for everything (the default; idempotent)
#   scripts/services.sh status say what answers, start nothing (exit 1 if something is down)
#   scripts/services.sh stop   stop what this script started in the background (SecantusDB, SMTP sink,
#                              localstripe, moto);
#                              PostgreSQL, Redis and RabbitMQ belong to the machine and are left alone
#
# Services: PostgreSQL 127.0.0.1:5432, Redis 6379, RabbitMQ 5672 (guest/guest), a MongoDB-wire server on
# 27017 (SecantusDB from PyPI unless something already listens there), an SMTP sink on 2525 (aiosmtpd,
# one file per message under .data/mail/new), localstripe on 8420 (a local server of Stripe's Payment
# Intents API, for the Stripe adapter's tests) and moto on 9010 (an S3 server in memory, for the media
# store's tests). State and logs go to .data/ (gitignored).
#
# Environment: SERVICES_TIMEOUT (seconds to wait for each service; default 60, RabbitMQ 120),
# PYTHON (default python3).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DATA="$ROOT/.data"
LOGS="$DATA/logs"
PYTHON=${PYTHON:-python3}
PROBE=("$PYTHON" "$ROOT/scripts/probe.py")
# Pinned so that every machine and CI run the same server; bump deliberately.
SECANTUSDB_PIP=${SECANTUSDB_PIP:-secantusdb==0.7.0b3}
AIOSMTPD_PIP=${AIOSMTPD_PIP:-aiosmtpd==1.4.6}
LOCALSTRIPE_PIP=${LOCALSTRIPE_PIP:-localstripe==1.15.10}
MOTO_PIP=${MOTO_PIP:-moto[server]==5.2.1}

say() { printf 'services: %s\n' "$*"; }
die() { printf 'services: ERROR: %s\n' "$*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 not found on PATH ($2)"; }
timeout_for() { echo "${SERVICES_TIMEOUT:-$1}"; }

# wait_for NAME SECONDS PID LOG CMD...: polls CMD until it succeeds. Fails at the deadline, or at once when
# PID (a process this script started; "" for none) has exited, showing the end of LOG.
wait_for() {
  local name=$1 seconds=$2 pid=$3 log=$4
  shift 4
  local start=$SECONDS
  until "$@" >/dev/null 2>&1; do
    if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
      show_log "$log"
      die "$name exited during start-up${log:+ (log: $log)}"
    fi
    if ((SECONDS - start >= seconds)); then
      "$@" >&2 || true # once more, with its complaint visible
      show_log "$log"
      die "$name did not answer within ${seconds}s${log:+ (log: $log)}"
    fi
    sleep 0.5
  done
  say "$name ready"
}

show_log() {
  [[ -n $1 && -r $1 ]] || return 0
  printf -- '--- last lines of %s ---\n' "$1" >&2
  tail -n 20 "$1" >&2 || true
  printf -- '---\n' >&2
}

# start_bg NAME CMD...: runs CMD detached (own session, no terminal, output to .data/logs/NAME.log) and
# records its pid in .data/NAME.pid. Sets STARTED_PID.
start_bg() {
  local name=$1
  shift
  printf '=== %s: %s\n' "$(date -u +%FT%TZ)" "$*" >>"$LOGS/$name.log"
  # 9>&-: the daemon must not inherit (and so hold forever) the lock taken below.
  nohup setsid "$@" </dev/null >>"$LOGS/$name.log" 2>&1 9>&- &
  STARTED_PID=$!
  echo "$STARTED_PID" >"$DATA/$name.pid"
}

# pip_script NAME: the path of a console script installed by pip for $PYTHON, or nothing.
pip_script() {
  local dir
  dir=$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_path("scripts"))')
  if [[ -x $dir/$1 ]]; then echo "$dir/$1"; else command -v "$1" || true; fi
}

pip_install() {
  say "installing $1 from PyPI"
  "$PYTHON" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore "$1" ||
    die "pip install $1 failed"
}

pg_up() { pg_isready -h 127.0.0.1 -p 5432 -q; }
redis_up() { [[ $(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null) == PONG ]]; }
rabbit_up() { "${PROBE[@]}" amqp 127.0.0.1 5672; }
mongo_up() { "${PROBE[@]}" mongo 127.0.0.1 27017; }
smtp_up() { "${PROBE[@]}" smtp 127.0.0.1 2525; }
stripe_up() { curl -fsS -o /dev/null -H 'Authorization: Bearer sk_test_probe' http://127.0.0.1:8420/v1/balance; }
moto_up() { curl -fsS -o /dev/null http://127.0.0.1:9010/moto-api/; }
listens() { "${PROBE[@]}" tcp 127.0.0.1 "$1" --timeout 1 2>/dev/null; }

ensure_postgres() {
  need pg_isready "install Debian's postgresql"
  if pg_up; then say "PostgreSQL up (127.0.0.1:5432)"; return; fi
  need pg_ctlcluster "install Debian's postgresql-common"
  local version
  [[ -d /etc/postgresql ]] || die "no /etc/postgresql: is PostgreSQL installed?"
  version=$(find /etc/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n 1)
  [[ -n $version ]] || die "no cluster under /etc/postgresql"
  say "starting PostgreSQL $version"
  # Exit status 2 means "already running" (it may still be starting up): the wait below decides.
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_for "PostgreSQL" "$(timeout_for 60)" "" "/var/log/postgresql/postgresql-$version-main.log" pg_up
}

ensure_redis() {
  need redis-cli "install Debian's redis-tools"
  if redis_up; then say "Redis up (127.0.0.1:6379)"; return; fi
  need redis-server "install Debian's redis-server"
  say "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_for "Redis" "$(timeout_for 30)" "" /var/log/redis/ci.log redis_up
}

ensure_rabbitmq() {
  if rabbit_up 2>/dev/null; then say "RabbitMQ up (127.0.0.1:5672)"; return; fi
  need rabbitmqctl "install Debian's rabbitmq-server"
  if timeout 20 rabbitmq-diagnostics -q ping >/dev/null 2>&1; then
    # The Erlang node runs but the broker application is stopped (or still booting).
    say "RabbitMQ node runs without its app: rabbitmqctl start_app"
    rabbitmqctl -q start_app || true
  else
    say "starting RabbitMQ"
    rabbitmq-server -detached
  fi
  wait_for "RabbitMQ" "$(timeout_for 120)" "" /var/log/rabbitmq rabbit_up
}

ensure_mongo() {
  if listens 27017; then
    # A real mongod, a SecantusDB started earlier, or something else: use it if it speaks MongoDB.
    wait_for "the MongoDB-wire server already listening on 127.0.0.1:27017" "$(timeout_for 60)" "" "" mongo_up
    return
  fi
  local bin
  bin=$(pip_script secantusd-py)
  if [[ -z $bin ]]; then
    pip_install "$SECANTUSDB_PIP"
    bin=$(pip_script secantusd-py)
    [[ -n $bin ]] || die "secantusd-py not found after installing $SECANTUSDB_PIP"
  fi
  say "starting SecantusDB (storage .data/mongo, log .data/logs/secantusd.log)"
  start_bg secantusd "$bin" --host 127.0.0.1 --port 27017 --storage-path "$DATA/mongo"
  wait_for "SecantusDB" "$(timeout_for 60)" "$STARTED_PID" "$LOGS/secantusd.log" mongo_up
}

ensure_smtp() {
  if listens 2525; then
    wait_for "the SMTP server already listening on 127.0.0.1:2525" "$(timeout_for 30)" "" "" smtp_up
    return
  fi
  if ! "$PYTHON" -c 'import aiosmtpd' 2>/dev/null; then pip_install "$AIOSMTPD_PIP"; fi
  # Mailbox makes .data/mail a Maildir on first use: don't create the folder, it needs cur/ new/ tmp/.
  say "starting SMTP sink (mail in .data/mail/new, log .data/logs/smtp.log)"
  start_bg smtp "$PYTHON" -m aiosmtpd -n -l 127.0.0.1:2525 -c aiosmtpd.handlers.Mailbox "$DATA/mail"
  wait_for "SMTP sink" "$(timeout_for 30)" "$STARTED_PID" "$LOGS/smtp.log" smtp_up
}

ensure_localstripe() {
  if listens 8420; then
    wait_for "the Stripe API server already listening on 127.0.0.1:8420" "$(timeout_for 30)" "" "" stripe_up
    return
  fi
  if ! "$PYTHON" -c 'import localstripe' 2>/dev/null; then pip_install "$LOCALSTRIPE_PIP"; fi
  # Its own command listens on every interface and reloads /tmp/localstripe.pickle: start its app on
  # loopback instead, with an empty store.
  say "starting localstripe (log .data/logs/localstripe.log)"
  start_bg localstripe "$PYTHON" -c 'from aiohttp import web; from localstripe.server import app
web.run_app(app, host="127.0.0.1", port=8420, print=None)'
  wait_for "localstripe" "$(timeout_for 30)" "$STARTED_PID" "$LOGS/localstripe.log" stripe_up
}

ensure_moto() {
  if listens 9010; then
    wait_for "the S3 server already listening on 127.0.0.1:9010" "$(timeout_for 30)" "" "" moto_up
    return
  fi
  local bin
  bin=$(pip_script moto_server)
  if [[ -z $bin ]]; then
    pip_install "$MOTO_PIP"
    bin=$(pip_script moto_server)
    [[ -n $bin ]] || die "moto_server not found after installing $MOTO_PIP"
  fi
  say "starting moto's S3 server (in memory, log .data/logs/moto.log)"
  start_bg moto "$bin" -H 127.0.0.1 -p 9010
  wait_for "moto" "$(timeout_for 60)" "$STARTED_PID" "$LOGS/moto.log" moto_up
}

status() {
  local down=0 name check
  for name in PostgreSQL:pg_up Redis:redis_up RabbitMQ:rabbit_up MongoDB:mongo_up SMTP:smtp_up \
    localstripe:stripe_up moto:moto_up; do
    check=${name#*:}
    if "$check" >/dev/null 2>&1; then say "${name%%:*} up"; else say "${name%%:*} DOWN"; down=1; fi
  done
  return "$down"
}

# stop_bg NAME MARKER: stops the process in .data/NAME.pid if its command line still contains MARKER.
stop_bg() {
  local pidfile="$DATA/$1.pid" pid
  [[ -r $pidfile ]] || { say "$1 was not started by this script"; return; }
  pid=$(<"$pidfile")
  if [[ -r /proc/$pid/cmdline ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$2"; then
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && die "$1 (pid $pid) did not stop"
    say "$1 (pid $pid) stopped"
  else
    say "$1 is not running"
  fi
  rm -f "$pidfile"
}

need "$PYTHON" "CPython 3 is needed for the probes and the Python-based servers"
need setsid "install Debian's util-linux"
mkdir -p "$LOGS"
# One run at a time, so two scripts starting together don't both start the same server.
exec 9>"$DATA/services.lock"
flock -w 300 9 || die "another scripts/services.sh held .data/services.lock for 300s"

case "${1:-up}" in
  up)
    ensure_postgres
    ensure_redis
    ensure_rabbitmq
    ensure_mongo
    ensure_smtp
    ensure_localstripe
    ensure_moto
    ;;
  status) status ;;
  stop)
    stop_bg secantusd secantusd
    stop_bg smtp aiosmtpd
    stop_bg localstripe localstripe
    stop_bg moto moto_server
    ;;
  *) die "usage: $0 [up|status|stop]" ;;
esac
